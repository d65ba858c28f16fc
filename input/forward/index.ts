// Public surface of the forward client.
export { createForwardClient, type ForwardClientOptions } from './client.js';
export { ForwardDeliveryTimeoutError, ForwardUnsettledError } from './errors.js';
export { Utf8Bytes } from './utf8-bytes.js';
