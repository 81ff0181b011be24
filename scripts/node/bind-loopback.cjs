// Preloaded (node -r) into servers that bind every interface by themselves (fauxqs): whatever host they ask for,
// they listen on 127.0.0.1 only. Test servers must never be reachable from the network.
const net = require("net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (args.length > 0 && typeof args[0] === "object" && args[0] !== null) {
    args[0] = { ...args[0], host: "127.0.0.1" };
  } else if (typeof args[0] === "number" || (typeof args[0] === "string" && /^\d+$/.test(args[0]))) {
    const port = args.shift();
    while (args.length > 0 && typeof args[0] !== "function") args.shift(); // drop host and backlog
    args.unshift(Number(port), "127.0.0.1");
  }
  return listen.apply(this, args);
};
