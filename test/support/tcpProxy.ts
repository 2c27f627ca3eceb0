/**
 * A loopback TCP proxy a test can break: the way to make "Postgres" unreachable (`cut`) or silent
 * (`stall`) for one app without touching the machine's shared server.
 */
import { connect, createServer, type Socket } from "node:net"

export interface TcpProxy {
  readonly port: number
  /** Stops accepting and drops every open connection, as if the server had died. */
  readonly cut: () => Promise<void>
  /**
   * Loses every byte in both directions, on open connections and new ones alike — a network path
   * that went silent (no reset, no refusal: nothing arrives). Connections open during the stall
   * never recover: what was lost is lost, as when TCP gives up retransmitting for minutes.
   */
  readonly stall: () => void
  /** Forwards again on connections opened from now on, as when the path comes back. */
  readonly resume: () => void
  /** Bytes clients have sent to the server so far (any statement sends some: none sent, none run). */
  readonly bytesToServer: () => number
}

export const startTcpProxy = (target: { host: string; port: number }): Promise<TcpProxy> =>
  new Promise((resolve, reject) => {
    const sockets = new Set<Socket>()
    /** Connections that were open during a stall, or opened during one: silent for good. */
    const broken = new WeakSet<Socket>()
    let stalled = false
    let bytesToServer = 0
    const forward = (from: Socket, to: Socket) => (chunk: Buffer) => {
      if (stalled) broken.add(from)
      if (!broken.has(from) && !to.destroyed) to.write(chunk)
    }
    const server = createServer((client) => {
      const upstream = connect(target.port, target.host)
      for (const s of [client, upstream]) {
        sockets.add(s)
        s.on("close", () => sockets.delete(s))
        s.on("error", () => s.destroy())
      }
      client.on("close", () => upstream.destroy())
      upstream.on("close", () => client.destroy())
      if (stalled) broken.add(client).add(upstream)
      const toServer = forward(client, upstream)
      client.on("data", (chunk: Buffer) => {
        bytesToServer += chunk.length
        toServer(chunk)
      })
      upstream.on("data", forward(upstream, client))
    })
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resolve({
        port,
        bytesToServer: () => bytesToServer,
        stall: () => {
          stalled = true
          for (const s of sockets) broken.add(s)
        },
        resume: () => {
          stalled = false
        },
        cut: () =>
          new Promise((done) => {
            server.close(() => done())
            for (const s of sockets) s.destroy()
          })
      })
    })
  })
