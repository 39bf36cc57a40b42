/**
 * The Ditto Protocol codec: envelope builders, topic and envelope parsing, and the JSON types they use. A leaf
 * module (it uses only `core`) shared by the Ditto client and the device clients.
 */
export * from './json.js';
export * from './codec.js';
