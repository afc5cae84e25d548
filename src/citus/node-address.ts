// A Citus node as the admin API and the CLI name it: host:port, as listed in pg_dist_node
// ([host]:port for an IPv6 address). Whether such a node exists is the cluster's to say.

export interface NodeAddress {
  readonly host: string;
  readonly port: number;
}

/** host:port (a host name or IPv4 address, or [IPv6]) with a port from 1 to 65535. */
export const NODE_ADDRESS =
  /^(?:\[([0-9A-Fa-f:.]{2,45})\]|([A-Za-z0-9][A-Za-z0-9.-]{0,252})):(6553[0-5]|655[0-2]\d|65[0-4]\d{2}|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3})$/;

/** The node, or undefined when the text is not host:port. */
export function parseNodeAddress(text: string): NodeAddress | undefined {
  const match = NODE_ADDRESS.exec(text);
  if (!match) return undefined;
  return { host: (match[1] ?? match[2]) as string, port: Number(match[3]) };
}

export function formatNode(node: NodeAddress): string {
  return node.host.includes(':') ? `[${node.host}]:${node.port}` : `${node.host}:${node.port}`;
}

export function sameNode(a: NodeAddress, b: NodeAddress): boolean {
  return a.host === b.host && a.port === b.port;
}
