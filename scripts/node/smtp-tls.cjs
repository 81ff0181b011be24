// An SMTP front for maildev that speaks TLS, for the e-mail tests (maildev itself never offers STARTTLS). Two listeners
// on loopback, both with the self-signed certificate scripts/services.sh makes once:
//   STARTTLS on SMTP_TLS_STARTTLS_PORT: STARTTLS is required before MAIL FROM (530 otherwise), so mail that arrives
//   here went through TLS; implicit TLS on SMTP_TLS_IMPLICIT_PORT (TLS from the first byte).
// AUTH (PLAIN, LOGIN) is optional, offered only after TLS, and accepts SMTP_TLS_USER / SMTP_TLS_PASSWORD only.
// Each message is relayed as it is to maildev (plain SMTP on SMTP_RELAY_PORT) with one header added in front,
// X-Apertur-Received-Over: "starttls" or "tls", then "; user=<name>" when the sender authenticated, which the tests
// read back from maildev's HTTP API. smtp-server and nodemailer come with maildev (package-lock.json pins them).
const fs = require("fs");
const { SMTPServer } = require("smtp-server");
const nodemailer = require("nodemailer");

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const host = "127.0.0.1";
const key = fs.readFileSync(env("SMTP_TLS_KEY"));
const cert = fs.readFileSync(env("SMTP_TLS_CERT"));
const user = env("SMTP_TLS_USER");
const password = env("SMTP_TLS_PASSWORD");
const relay = nodemailer.createTransport({ host, port: Number(env("SMTP_RELAY_PORT")), secure: false, ignoreTLS: true });

function server(mode) {
  return new SMTPServer({
    secure: mode === "tls",
    key,
    cert,
    authOptional: true,
    authMethods: ["PLAIN", "LOGIN"],
    logger: false,
    onAuth(auth, session, callback) {
      if (auth.username === user && auth.password === password) return callback(null, { user });
      const refused = new Error("5.7.8 Authentication credentials invalid");
      refused.responseCode = 535;
      return callback(refused);
    },
    onMailFrom(address, session, callback) {
      if (!session.secure) {
        const refused = new Error("5.7.0 Must issue a STARTTLS command first");
        refused.responseCode = 530;
        return callback(refused);
      }
      return callback();
    },
    onData(stream, session, callback) {
      const chunks = [];
      stream.on("data", (chunk) => chunks.push(chunk));
      stream.on("error", callback);
      stream.on("end", () => {
        const over = mode + (session.user ? `; user=${session.user}` : "");
        const raw = Buffer.concat([Buffer.from(`X-Apertur-Received-Over: ${over}\r\n`), ...chunks]);
        relay.sendMail({
          envelope: { from: session.envelope.mailFrom.address, to: session.envelope.rcptTo.map((r) => r.address) },
          raw,
        }, (err) => callback(err || null));
      });
    },
  });
}

for (const [mode, port] of [["starttls", env("SMTP_TLS_STARTTLS_PORT")], ["tls", env("SMTP_TLS_IMPLICIT_PORT")]]) {
  const s = server(mode);
  s.on("error", (err) => console.error(`${mode}: ${err.message}`));
  s.listen(Number(port), host);
}
