/**
 * `host:port`, as the config, `--listen` options and every server of the project take it: a host
 * name or IPv4 address, or an IPv6 address in brackets, then a port (0 picks a free one).
 */
export const HOST_PORT = /^(?:\[([\d:a-fA-F]+)\]|([\w.-]+)):(\d{1,5})$/;

/** The host (IPv6 without brackets) and port of `host:port`; undefined when it is not one. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const match = HOST_PORT.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535) return undefined;
  return { host: match[1] ?? match[2]!, port };
}
