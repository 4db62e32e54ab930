// webhook-receiver.js - a webhook endpoint for the tests (t0910).
//
//   node webhook-receiver.js PORTFILE LOGFILE
//
// Listens on 127.0.0.1 (an ephemeral port, written to PORTFILE).  The
// path of each delivery picks the behaviour:
//   /ok        200
//   /flaky     500 to the first two attempts of each webhook-id, then 200
//   /down      503 while the file LOGFILE.down exists, then 200
//   /slow      answers after 3 s (past the notifier's timeout), 200
//   /redirect  302 to /ok on 127.0.0.1
// POST /_secrets/<path> with "whsec_... whsec_..." sets the secrets a
// path's signatures are checked with.  Every delivery is one JSON line in
// LOGFILE: path, webhook-id, signature checks (own HMAC with each secret,
// and the standardwebhooks package when STANDARDWEBHOOKS names it), the
// event's type and seq, the status answered.
'use strict';
const http = require('http');
const crypto = require('crypto');
const fs = require('fs');

const [portFile, logFile] = process.argv.slice(2);
const Webhook = process.env.STANDARDWEBHOOKS ?
  require(process.env.STANDARDWEBHOOKS).Webhook : null;
const secrets = {};
const attempts = {};

// Which of the path's secrets signed it (own check): indexes.
function ownCheck(secretList, id, ts, body, header) {
  const given = (header || '').split(' ').filter(s => s.startsWith('v1,'))
    .map(s => Buffer.from(s.slice(3), 'base64'));
  const signedBy = [];
  secretList.forEach((secret, i) => {
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    const mac = crypto.createHmac('sha256', key)
      .update(`${id}.${ts}.${body}`).digest();
    if (given.some(g => g.length === mac.length && crypto.timingSafeEqual(g, mac)))
      signedBy.push(i);
  });
  return signedBy;
}

function libCheck(secretList, body, headers) {
  if (!Webhook) return null;
  return secretList.map(secret => {
    try {
      new Webhook(secret).verify(body, {
        'webhook-id': headers['webhook-id'],
        'webhook-timestamp': headers['webhook-timestamp'],
        'webhook-signature': headers['webhook-signature'],
      });
      return true;
    } catch (e) {
      return false;
    }
  });
}

const server = http.createServer((req, res) => {
  let chunks = [];
  req.on('data', c => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const path = req.url.split('?')[0];
    if (path.startsWith('/_secrets/')) {
      secrets['/' + path.slice('/_secrets/'.length)] = body.trim().split(/\s+/);
      res.writeHead(204);
      return res.end();
    }
    const id = req.headers['webhook-id'];
    const ts = req.headers['webhook-timestamp'];
    const list = secrets[path] || [];
    let status = 200;
    const key = path + ' ' + id;
    attempts[key] = (attempts[key] || 0) + 1;
    if (path === '/flaky' && attempts[key] <= 2) status = 500;
    if (path === '/down' && fs.existsSync(logFile + '.down')) status = 503;
    let event = {};
    try { event = JSON.parse(body); } catch (e) { event = {}; }
    const entry = {
      path, id, ts: Number(ts), attempt: attempts[key],
      signatures: (req.headers['webhook-signature'] || '').split(' ').length,
      own: ownCheck(list, id, ts, body, req.headers['webhook-signature']),
      lib: libCheck(list, body, req.headers),
      type: event.type, seq: event.data && event.data.seq,
      event_id: event.data && event.data.id, status,
    };
    const answer = () => {
      fs.appendFileSync(logFile, JSON.stringify(entry) + '\n');
      if (path === '/redirect') {
        res.writeHead(302, { Location: `http://127.0.0.1:${server.address().port}/ok` });
        return res.end();
      }
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'no');
    };
    if (path === '/slow') setTimeout(answer, 3000); else answer();
  });
});
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(portFile + '.tmp', String(server.address().port));
  fs.renameSync(portFile + '.tmp', portFile);
});
process.on('SIGTERM', () => process.exit(0));
