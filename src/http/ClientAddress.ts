/**
 * Who is calling, as far as per-address rate limits are concerned.
 *
 * By default the client is the socket's peer: `X-Forwarded-For` is ignored, because any client can
 * send one and rotating it would dodge every per-address limit. Behind load balancers, operators
 * set `TRUST_PROXY_HOPS` to the number of proxies in front of the service; each appends the
 * address it received the request from, so the client is the right-most entry no trusted proxy
 * wrote: counting from the socket's peer (hop 0) leftwards through the header, hop
 * `TRUST_PROXY_HOPS`. Entries further left are whatever the client sent, and are never read.
 */
import type { HttpServerRequest } from "@effect/platform"
import { isIPv4, isIPv6 } from "node:net"
import { Option } from "effect"

/** Text for an unknown peer (a Unix socket): all such callers share one bucket. */
const unknownAddress = "unknown"

/** Strips what proxies and Node add around an address: a port, brackets, the IPv4-mapped IPv6 prefix, a zone. */
export const normalizeAddress = (raw: string): string => {
  let address = raw.trim().toLowerCase()
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address)
  if (bracketed !== null) address = bracketed[1]!
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(":"))
  if (address.startsWith("::ffff:") && isIPv4(address.slice(7))) address = address.slice(7)
  const zone = address.indexOf("%")
  if (zone > 0 && isIPv6(address.slice(0, zone))) address = address.slice(0, zone)
  return address === "" ? unknownAddress : address
}

/** The client's address per the trust rule above, normalized. */
export const clientAddress = (request: HttpServerRequest.HttpServerRequest, trustProxyHops: number): string => {
  const peer = Option.getOrElse(request.remoteAddress, () => unknownAddress)
  if (trustProxyHops === 0) return normalizeAddress(peer)
  const forwarded = (request.headers["x-forwarded-for"] ?? "").split(",").map((entry) => entry.trim()).filter((entry) => entry !== "")
  // Nearest first: the peer (a trusted proxy), then each entry from the right. Fewer entries than
  // trusted hops (a request that came through fewer proxies) leaves the left-most as the client.
  const hops = [peer, ...forwarded.reverse()]
  return normalizeAddress(hops[Math.min(trustProxyHops, hops.length - 1)]!)
}

/** The eight 16-bit groups of an IPv6 address (an embedded IPv4 tail counts as two). */
const ipv6Groups = (address: string): ReadonlyArray<number> => {
  const groupsOf = (part: string) => {
    if (part === "") return []
    return part.split(":").flatMap((group) => {
      if (!group.includes(".")) return [parseInt(group, 16)]
      const [a, b, c, d] = group.split(".").map(Number)
      return [(a! << 8) | b!, (c! << 8) | d!]
    })
  }
  const [head, tail] = address.split("::")
  const left = groupsOf(head ?? "")
  const right = tail === undefined ? [] : groupsOf(tail)
  return [...left, ...Array.from({ length: 8 - left.length - right.length }, () => 0), ...right]
}

/**
 * The key a per-address limit counts under. An IPv6 client usually holds a whole /64 and can
 * rotate through it at will, so IPv6 addresses count per /64; IPv4 addresses count one by one.
 */
export const addressBucket = (address: string): string =>
  isIPv6(address)
    ? `${ipv6Groups(address).slice(0, 4).map((group) => group.toString(16)).join(":")}::/64`
    : address
