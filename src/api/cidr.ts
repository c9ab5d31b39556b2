/** IPv4 CIDR arithmetic for pod ranges (node IPAM, the simulator, the agent's CNI config). */

export interface Cidr { base: number; prefix: number }

export function parseCidr(text: string): Cidr {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`invalid IPv4 CIDR "${text}"`);
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) throw new Error(`invalid IPv4 CIDR "${text}"`);
  const addr = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  return { base: addr - (addr % size), prefix };
}

export const ipString = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
export const cidrString = (c: Cidr): string => `${ipString(c.base)}/${c.prefix}`;
export const cidrSize = (c: Cidr): number => 2 ** (32 - c.prefix);

/** The address `offset` into a range: 1 is the `kubernetes` Service's, 10 kube-dns's. */
export const addressInCidr = (cidr: string, offset: number): string => ipString(parseCidr(cidr).base + offset);
