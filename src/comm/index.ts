export { Comm, type Message } from "./comm.ts";
export { listen, connect, type Listener, type ListenOptions, type ConnectOptions, type TlsOptions } from "./transport.ts";
export { parseAddress, formatAddress, hostOf, type ParsedAddress } from "./address.ts";
export { CommClosedError, ConnectError, ProtocolError, AddressError } from "./errors.ts";
