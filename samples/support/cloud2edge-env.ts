/**
 * How Cloud2Edge's documentation ("Preparing the environment") sets the variables the samples read: its
 * setCloud2EdgeEnv.sh script, with the Helm release name, the namespace, and where to write Hono's example CA.
 */
export const SET_CLOUD2EDGE_ENV = [
  'curl https://www.eclipse.org/packages/packages/cloud2edge/scripts/setCloud2EdgeEnv.sh --output setCloud2EdgeEnv.sh',
  'chmod u+x setCloud2EdgeEnv.sh',
  'eval "$(./setCloud2EdgeEnv.sh c2e cloud2edge /tmp/c2e_hono_truststore.pem)"   # Helm release, namespace, CA file to write',
];

/** The lines above, indented for a console message. */
export function setCloud2EdgeEnvText(indent = '  '): string {
  return SET_CLOUD2EDGE_ENV.map((line) => `${indent}${line}`).join('\n');
}
