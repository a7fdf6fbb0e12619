export { Comm, PACKET_WEIGHT, type Message, type CommLimits } from "./comm.ts";
export { listen, connect, type Listener, type ListenOptions, type ConnectOptions, type TlsOptions } from "./transport.ts";
export { parseAddress, formatAddress, hostOf, type ParsedAddress } from "./address.ts";
export { commLimits, dataIdleTimeoutMs, DEFAULT_LIMITS, type ListenLimits } from "./limits.ts";
export { CommClosedError, ConnectError, HandshakeError, ProtocolError, AddressError, RequestTimeoutError, type HandshakeRefusal } from "./errors.ts";
export { tlsFromEnv, serverTlsFromEnv, TlsConfigError, TLS_ENV, TLS_HINT } from "./tls-env.ts";
