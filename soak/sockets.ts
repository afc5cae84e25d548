// The gateway's side of its PostgreSQL connections: the local ports of the TCP sockets the gateway
// process holds open to PostgreSQL's port (its /proc/<pid>/fd sockets matched with /proc/net/tcp). A
// backend still listed in pg_stat_activity after the gateway closed its socket is PostgreSQL finishing
// its exit (it closes the client socket before it leaves pg_stat_activity), not a connection the
// gateway holds.
import { readdir, readFile, readlink } from 'node:fs/promises';

export async function gatewaySocketPorts(pid: number, postgresPort: number): Promise<Set<number> | undefined> {
  let inodes: Set<string>;
  try {
    const fds = await readdir(`/proc/${pid}/fd`);
    const links = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
    inodes = new Set(links.map((l) => /^socket:\[(\d+)\]$/.exec(l)?.[1]).filter((i): i is string => i !== undefined));
  } catch {
    return undefined; // the process is gone
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [local, remote, state, inode] = [cols[1], cols[2], cols[3], cols[9]];
      if (!local || !remote || state !== '01' || inode === undefined || !inodes.has(inode)) continue;
      if (parseInt(remote.split(':')[1] ?? '', 16) !== postgresPort) continue;
      ports.add(parseInt(local.split(':')[1] ?? '', 16));
    }
  }
  return ports;
}
