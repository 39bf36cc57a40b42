#!/usr/bin/env node
// Prints a collections_config.json with one private data collection per organisation, named as the
// chaincode expects (`<MSP ID>PrivateCollection`): readable and writable only by that organisation's
// members, endorsed by its own peers, never purged.
//   node scripts/collections.mjs Org1MSP Org2MSP > collections_config.json
const mspIds = process.argv.slice(2);
if (mspIds.length === 0 || mspIds.some((id) => !/^[A-Za-z0-9._-]+$/.test(id))) {
  console.error('usage: node scripts/collections.mjs <MSP ID>... (e.g. Org1MSP Org2MSP)');
  process.exit(2);
}
const collections = mspIds.map((mspId) => ({
  name: `${mspId}PrivateCollection`,
  policy: `OR('${mspId}.member')`,
  requiredPeerCount: 0,
  maxPeerCount: 1,
  blockToLive: 0,
  memberOnlyRead: true,
  memberOnlyWrite: true,
  endorsementPolicy: { signaturePolicy: `OR('${mspId}.peer')` },
}));
console.log(JSON.stringify(collections, null, 2));
