// Runs fauxqs (SQS) for Hookline's local stack on 127.0.0.1:$FAUXQS_PORT.
// fauxqs's own CLI listens on 0.0.0.0; the emulator must not be reachable from
// other machines, so the one listen call it makes is pointed at loopback.
import net from "node:net";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (options, ...rest) {
  if (options && typeof options === "object" && options.host === "0.0.0.0") {
    options = { ...options, host: "127.0.0.1" };
  }
  return listen.call(this, options, ...rest);
};

const port = Number(process.env.FAUXQS_PORT);
if (!Number.isInteger(port) || port <= 0) {
  console.error("launch.mjs: FAUXQS_PORT must be a port number");
  process.exit(2);
}
const { startFauxqs } = await import("fauxqs");
const server = await startFauxqs({ port, logger: process.env.FAUXQS_LOGGER === "true" });
console.log(`fauxqs listening on ${server.address}`);
