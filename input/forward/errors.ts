// Typed errors of the forward client. Each says what happened and what to fix; none carries a secret.

/** Base class: every error the forward client raises. */
export class ForwardError extends Error {
  override readonly name: string = 'ForwardError';
}

/**
 * Fluent Bit refused the handshake: a shared_key or security.users mismatch, or it wants a shared key that
 * was not configured. Fatal: retrying cannot help until the configuration changes.
 */
export class ForwardAuthError extends ForwardError {
  override readonly name: string = 'ForwardAuthError';
  constructor(message: string, readonly reason: 'shared_key' | 'user' | 'shared_key_required' | 'server_digest') {
    super(message);
  }
}

/** The client was closed (or is closing) before the data could be sent or acknowledged. */
export class ForwardClosedError extends ForwardError {
  override readonly name: string = 'ForwardClosedError';
}

/** One entry alone encodes to more bytes than a forward frame may carry (Fluent Bit's buffer_max_size). */
export class ForwardRecordTooLargeError extends ForwardError {
  override readonly name: string = 'ForwardRecordTooLargeError';
  constructor(message: string, readonly index: number, readonly bytes: number) {
    super(message);
  }
}

/** An entry the protocol cannot carry (time out of EventTime's range, non-integer seconds, ...). */
export class ForwardEncodeError extends ForwardError {
  override readonly name: string = 'ForwardEncodeError';
}

/** Bad options given to createForwardClient (unreadable TLS file, non-positive limits, ...). */
export class ForwardConfigError extends ForwardError {
  override readonly name: string = 'ForwardConfigError';
}

/**
 * Nothing was acknowledged for the delivery timeout while chunks waited (Fluent Bit unreachable, or reachable but
 * never acking). Fatal: the client gives up, so that a one-pass run ends instead of waiting forever.
 */
export class ForwardDeliveryTimeoutError extends ForwardError {
  override readonly name: string = 'ForwardDeliveryTimeoutError';
}

/** A connection-level failure that the client retries: refused, reset, ack timeout, no HELO, bad answer. */
export class ForwardConnectionError extends ForwardError {
  override readonly name: string = 'ForwardConnectionError';
  /** 'unresolved': the host name did not resolve (DNS), so no connection was even tried. */
  constructor(message: string, readonly reason?: 'unresolved') {
    super(message);
  }
}

/**
 * The connection closed within the settle time of acked chunks, and the client was told not to keep their frames
 * (settleResend 'caller'): Fluent Bit may not have stored those records. Retryable: the caller sends them again
 * from its own source (the collector re-reads them from the API; its checkpoint never passed them).
 */
export class ForwardUnsettledError extends ForwardError {
  override readonly name: string = 'ForwardUnsettledError';
  constructor(message: string, readonly entries: number) {
    super(message);
  }
}
