import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where a model provider may not be (issue #8): an admin who can point a provider at a cloud
 * metadata service can make the server fetch its instance credentials and show them in an error.
 * Link-local and the metadata addresses of the big clouds are refused, by name and by every
 * address the name resolves to, unless ALLOW_PRIVATE_PROVIDER_URLS=true. Loopback and the other
 * private ranges stay allowed: a model server on the same host or network is a normal setup.
 */
const BLOCKED = new BlockList();
// IPv4 link-local: AWS, GCP, Azure, OpenStack metadata at 169.254.169.254, ECS at 169.254.170.2.
BLOCKED.addSubnet('169.254.0.0', 16, 'ipv4');
// Alibaba Cloud metadata.
BLOCKED.addAddress('100.100.100.200', 'ipv4');
// Oracle Cloud metadata (older instances).
BLOCKED.addAddress('192.0.0.192', 'ipv4');
// IPv6 link-local.
BLOCKED.addSubnet('fe80::', 10, 'ipv6');
// AWS IMDS over IPv6.
BLOCKED.addAddress('fd00:ec2::254', 'ipv6');

/** Names that resolve to a metadata service only inside a cloud, so DNS here may not show it. */
const BLOCKED_HOSTNAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.com',
  'instance-data',
  'instance-data.ec2.internal',
]);

const IPV4_MAPPED_DOTTED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;
const IPV4_MAPPED_HEX = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i;
const BYTE = 256;
const HEX = 16;

/** The IPv4 address inside an IPv4-mapped IPv6 one (::ffff:a.b.c.d), else the address itself. */
function unmapped(address: string): string {
  const dotted = IPV4_MAPPED_DOTTED.exec(address);
  if (dotted) return dotted[1]!;
  const hex = IPV4_MAPPED_HEX.exec(address);
  if (hex) {
    const high = Number.parseInt(hex[1]!, HEX);
    const low = Number.parseInt(hex[2]!, HEX);
    return [high >> 8, high % BYTE, low >> 8, low % BYTE].join('.');
  }
  return address;
}

/** True for an IP address in a link-local or metadata range. */
export function isBlockedAddress(address: string): boolean {
  const ip = unmapped(address.replace(/^\[|\]$/g, ''));
  const family = isIP(ip);
  if (family === 0) return false;
  return BLOCKED.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Why `url` may not be used as a provider URL, or null when it may. Resolves the host name and
 * checks every address; a name that does not resolve here is allowed (the call will fail, and the
 * check runs again at request time).
 */
export async function blockedProviderUrlReason(url: string | URL): Promise<string | null> {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  const host = parsed.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  if (BLOCKED_HOSTNAMES.has(host)) return `${host} is a cloud metadata service`;
  if (isIP(unmapped(host)) !== 0) {
    return isBlockedAddress(host) ? `${host} is a link-local or metadata address` : null;
  }
  let addresses: { address: string }[];
  try {
    addresses = await lookup(host, { all: true, verbatim: true });
  } catch {
    return null;
  }
  const blocked = addresses.find((entry) => isBlockedAddress(entry.address));
  return blocked
    ? `${host} resolves to ${blocked.address}, a link-local or metadata address`
    : null;
}
