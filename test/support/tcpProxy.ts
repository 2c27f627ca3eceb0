/**
 * A loopback TCP proxy a test can cut: the way to make "Postgres" unreachable for one app without
 * touching the machine's shared server.
 */
import { createServer, connect, type Socket } from "node:net"

export interface TcpProxy {
  readonly port: number
  /** Stops accepting and drops every open connection, as if the server had died. */
  readonly cut: () => Promise<void>
  /** Bytes clients have sent to the server so far (any statement sends some: none sent, none run). */
  readonly bytesToServer: () => number
}

export const startTcpProxy = (target: { host: string; port: number }): Promise<TcpProxy> =>
  new Promise((resolve, reject) => {
    const sockets = new Set<Socket>()
    let bytesToServer = 0
    const server = createServer((client) => {
      const upstream = connect(target.port, target.host)
      for (const s of [client, upstream]) {
        sockets.add(s)
        s.on("close", () => sockets.delete(s))
        s.on("error", () => s.destroy())
      }
      client.on("data", (chunk: Buffer) => (bytesToServer += chunk.length))
      client.pipe(upstream).pipe(client)
    })
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resolve({
        port,
        bytesToServer: () => bytesToServer,
        cut: () =>
          new Promise((done) => {
            server.close(() => done())
            for (const s of sockets) s.destroy()
          })
      })
    })
  })
