/**
 * The client address per-address limits count under: the socket's peer unless proxies are
 * trusted, then the right-most `X-Forwarded-For` entry no trusted proxy wrote; IPv6 per /64.
 */
import { HttpServerRequest } from "@effect/platform"
import { describe, expect, it } from "vitest"
import { addressBucket, clientAddress, normalizeAddress } from "../../src/http/ClientAddress.js"

const request = (peer: string | undefined, forwardedFor?: string) =>
  HttpServerRequest.fromWeb(
    new Request("http://service/api/auth/cc/login", {
      method: "POST",
      headers: forwardedFor === undefined ? {} : { "x-forwarded-for": forwardedFor }
    })
  ).modify(peer === undefined ? {} : { remoteAddress: peer })

describe("clientAddress", () => {
  it("by default is the socket's peer, whatever X-Forwarded-For says", () => {
    expect(clientAddress(request("203.0.113.7", "198.51.100.1"), 0)).toBe("203.0.113.7")
    expect(clientAddress(request("::ffff:203.0.113.7"), 0)).toBe("203.0.113.7")
    expect(clientAddress(request(undefined), 0)).toBe("unknown")
  })

  it("behind one trusted proxy is the right-most entry: what the proxy appended, not what the client sent", () => {
    expect(clientAddress(request("10.0.0.2", "203.0.113.7"), 1)).toBe("203.0.113.7")
    expect(clientAddress(request("10.0.0.2", "1.1.1.1, 2.2.2.2, 203.0.113.7"), 1)).toBe("203.0.113.7")
    expect(clientAddress(request("10.0.0.2", " 9.9.9.9 ,203.0.113.7 "), 1)).toBe("203.0.113.7")
  })

  it("behind two trusted proxies skips the nearer proxy's entry", () => {
    expect(clientAddress(request("10.0.0.3", "1.1.1.1, 203.0.113.7, 10.0.0.2"), 2)).toBe("203.0.113.7")
  })

  it("with fewer entries than trusted hops takes the left-most; with none, the peer", () => {
    expect(clientAddress(request("10.0.0.3", "203.0.113.7"), 2)).toBe("203.0.113.7")
    expect(clientAddress(request("10.0.0.3"), 1)).toBe("10.0.0.3")
    expect(clientAddress(request("10.0.0.3", " , "), 1)).toBe("10.0.0.3")
  })

  it("normalizes ports, brackets, case, mapped IPv4 and zones", () => {
    expect(normalizeAddress("203.0.113.7:51234")).toBe("203.0.113.7")
    expect(normalizeAddress("[2001:DB8::1]:443")).toBe("2001:db8::1")
    expect(normalizeAddress("::FFFF:203.0.113.7")).toBe("203.0.113.7")
    expect(normalizeAddress("fe80::1%eth0")).toBe("fe80::1")
    expect(normalizeAddress("  ")).toBe("unknown")
  })
})

describe("addressBucket", () => {
  it("keeps IPv4 addresses whole and counts IPv6 per /64", () => {
    expect(addressBucket("203.0.113.7")).toBe("203.0.113.7")
    expect(addressBucket("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64")
    expect(addressBucket("2001:db8:1:2:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64")
    expect(addressBucket("2001:db8::1")).toBe("2001:db8:0:0::/64")
    expect(addressBucket("::1")).toBe("0:0:0:0::/64")
    expect(addressBucket("64:ff9b:0:0::203.0.113.7")).toBe("64:ff9b:0:0::/64")
    expect(addressBucket("unknown")).toBe("unknown")
  })
})
