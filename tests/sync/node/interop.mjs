// A Yjs client (the npm `yjs` and `y-protocols` packages, as the app uses them) against the
// Python sync service, for tests/sync/test_node_interop.py.
//
//   node interop.mjs <ws-url> <token> <command-json>
//
// The command (every key optional):
//   client_id   this doc's Yjs client id (default: random, as Yjs picks it)
//   offline     writes made before connecting: they go up in our SyncStep2 (the answer to the
//               server's SyncStep1), as a Yjs app that was offline sends them
//   ops         writes made once the first sync is done (our SyncStep1 answered): one Update each
//   wait_for    conditions that must hold before we finish, each one of
//                 {"path": ["memory", "<id>", "text"], "equals": <value>}
//                 {"path": [...], "exists": true | false}
//                 {"seen": {"<client id>": <clock>}}   (our state vector has at least these clocks)
//   timeout_ms  give up after this long (default 20000)
//
// A write is {"op": ..., ...} with op one of (the same rules as sync/document.py):
//   set_profile {field, value} | set_preference {key, value} |
//   add_memory {id, text, source, created, updated, tags} | tag_memory {id, tag} | delete_memory {id} |
//   add_alias {device, alias} | name_room {area, name}
// The document: root maps profile, preferences, memory (id -> Map {text, source, created, updated,
// tags: Map(tag -> true)}), aliases (a flat set: "<device id>\t<alias>" -> true), rooms (area -> name).
//
// Protocol: y-protocols sync messages after varUint 0 (messageSync). The server adds ACK:
// varUint 100, then varUint8Array(sha256 of a stored update); we wait for one per update sent.
// Progress goes to stderr ("interop: ready" once the first sync is done and our writes are
// acknowledged); at the end the whole document goes to stdout as JSON and we exit 0. On an
// error or a timeout: a message on stderr and exit 1.

import { createHash } from 'node:crypto'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'
import * as syncProtocol from 'y-protocols/sync'
import * as Y from 'yjs'

const MESSAGE_SYNC = 0
const MESSAGE_ACK = 100
const REMOTE = Symbol('remote') // the origin of updates that came from the server: never sent back
const PROFILE_FIELDS = ['name', 'language', 'voice', 'wake_word', 'timezone']

const log = (line) => process.stderr.write(`interop: ${line}\n`)

const fail = (message) => {
  process.stderr.write(`interop: FAILED: ${message}\n`)
  process.exit(1)
}

const [url, token, commandJson] = process.argv.slice(2)
if (!url || !token || !commandJson) fail('usage: node interop.mjs <ws-url> <token> <command-json>')
let command
try {
  command = JSON.parse(commandJson)
} catch (err) {
  fail(`the command is not JSON: ${err.message}`)
}
const timeoutMs = command.timeout_ms ?? 20000

const doc = new Y.Doc()
if (command.client_id != null) doc.clientID = command.client_id
const profile = doc.getMap('profile')
const preferences = doc.getMap('preferences')
const memory = doc.getMap('memory')
const aliases = doc.getMap('aliases')
const rooms = doc.getMap('rooms')
const lists = doc.getMap('lists')
const listItems = doc.getMap('list_items')

const snapshot = () => ({
  profile: profile.toJSON(),
  preferences: preferences.toJSON(),
  memory: memory.toJSON(),
  aliases: aliases.toJSON(),
  rooms: rooms.toJSON(),
  lists: lists.toJSON(),
  list_items: listItems.toJSON(),
})

function write (op) {
  doc.transact(() => {
    switch (op.op) {
      case 'set_profile':
        if (!PROFILE_FIELDS.includes(op.field)) throw new Error(`unknown profile field ${op.field}`)
        profile.set(op.field, String(op.value).slice(0, 200))
        break
      case 'set_preference':
        preferences.set(String(op.key).slice(0, 100), op.value)
        break
      case 'add_memory': {
        const item = new Y.Map()
        memory.set(op.id, item)
        const now = Date.now() / 1000
        item.set('text', op.text.trim())
        item.set('source', op.source ?? '')
        item.set('created', op.created ?? now)
        item.set('updated', op.updated ?? op.created ?? now)
        const tags = new Y.Map()
        item.set('tags', tags)
        for (const tag of op.tags ?? []) tags.set(tag, true)
        break
      }
      case 'tag_memory': {
        const item = memory.get(op.id)
        if (!(item instanceof Y.Map)) throw new Error(`no memory item ${op.id} to tag (was the first sync applied?)`)
        item.get('tags').set(op.tag, true)
        break
      }
      case 'delete_memory':
        if (!memory.has(op.id)) throw new Error(`no memory item ${op.id} to delete (was the first sync applied?)`)
        memory.delete(op.id)
        break
      case 'add_alias':
        aliases.set(`${op.device.trim()}\t${op.alias.trim().toLowerCase()}`, true)
        break
      case 'name_room':
        rooms.set(op.area.trim().toLowerCase(), op.name.trim())
        break
      default:
        throw new Error(`unknown op ${JSON.stringify(op)}`)
    }
  })
}

function holds (condition) {
  if (condition.seen) {
    const sv = Y.decodeStateVector(Y.encodeStateVector(doc))
    return Object.entries(condition.seen).every(([client, clock]) => (sv.get(Number(client)) ?? 0) >= clock)
  }
  let value = snapshot()
  for (const key of condition.path) {
    if (value === null || typeof value !== 'object' || !(key in value)) {
      value = undefined
      break
    }
    value = value[key]
  }
  if ('equals' in condition) return JSON.stringify(value) === JSON.stringify(condition.equals)
  if ('exists' in condition) return (value !== undefined) === condition.exists
  throw new Error(`a condition needs equals, exists or seen: ${JSON.stringify(condition)}`)
}

// Offline writes: no connection yet, so nothing listens; our SyncStep2 carries them.
for (const op of command.offline ?? []) write(op)

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex')
const unacked = new Map() // sha256 hex of an update we sent -> what it was
let synced = false // the server answered our SyncStep1
let ready = false
let finished = false
let sent = 0
let received = 0

const timer = setTimeout(() => {
  const missing = (command.wait_for ?? []).filter((c) => !holds(c))
  fail(`timed out after ${timeoutMs} ms: synced=${synced}, ${unacked.size} update(s) not acknowledged ` +
       `(${[...unacked.values()].join(', ') || 'none'}), conditions not holding: ${JSON.stringify(missing)}; ` +
       `the document: ${JSON.stringify(snapshot())}`)
}, timeoutMs)

const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` } })
ws.binaryType = 'nodebuffer'

function send (what, build, update) {
  const encoder = encoding.createEncoder()
  encoding.writeVarUint(encoder, MESSAGE_SYNC)
  build(encoder)
  ws.send(encoding.toUint8Array(encoder))
  sent++
  if (update && !(update.length === 2 && update[0] === 0 && update[1] === 0)) unacked.set(sha256(update), what)
}

// Our own changes, as they happen, one Update each; remote ones (origin REMOTE) are not echoed.
doc.on('update', (update, origin) => {
  if (origin === REMOTE || ws.readyState !== WebSocket.OPEN) return
  send(`update ${sent}`, (encoder) => syncProtocol.writeUpdate(encoder, update), update)
})

function progress () {
  if (finished || !synced || unacked.size > 0) return
  if (!ready) {
    ready = true
    log(`ready: client ${doc.clientID}, ${sent} message(s) sent, all acknowledged`)
  }
  if (!(command.wait_for ?? []).every(holds)) return
  finished = true
  clearTimeout(timer)
  log(`done: ${sent} sent, ${received} received`)
  process.stdout.write(JSON.stringify(snapshot()) + '\n', () => {
    ws.close(1000)
    process.exit(0)
  })
}

ws.on('open', () => {
  log(`connected to ${url}`)
  send('SyncStep1', (encoder) => syncProtocol.writeSyncStep1(encoder, doc))
})

ws.on('message', (data, isBinary) => {
  if (!isBinary) fail(`a text frame from the server: ${String(data).slice(0, 200)}`)
  received++
  try {
    const decoder = decoding.createDecoder(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    const kind = decoding.readVarUint(decoder)
    if (kind === MESSAGE_ACK) {
      const digest = Buffer.from(decoding.readVarUint8Array(decoder)).toString('hex')
      if (!unacked.delete(digest)) log(`an ACK for an update we did not send (or acknowledged twice): ${digest}`)
    } else if (kind === MESSAGE_SYNC) {
      const encoder = encoding.createEncoder()
      encoding.writeVarUint(encoder, MESSAGE_SYNC)
      const type = syncProtocol.readSyncMessage(decoder, encoder, doc, REMOTE, (err) => {
        fail(`could not apply the server's update: ${err.stack ?? err}`)
      })
      if (type === syncProtocol.messageYjsSyncStep1) {
        // the server's state vector: answer with what it lacks (our offline writes), and expect an ACK
        const reply = encoding.toUint8Array(encoder)
        const answer = decoding.createDecoder(reply)
        decoding.readVarUint(answer) // messageSync
        decoding.readVarUint(answer) // SyncStep2
        ws.send(reply)
        sent++
        const update = decoding.readVarUint8Array(answer)
        if (!(update.length === 2 && update[0] === 0 && update[1] === 0)) unacked.set(sha256(update), 'SyncStep2')
      } else if (type === syncProtocol.messageYjsSyncStep2 && !synced) {
        synced = true
        log(`synced: ${JSON.stringify(snapshot())}`)
        for (const op of command.ops ?? []) write(op)
      }
    } else {
      log(`ignoring a message of type ${kind}`)
    }
  } catch (err) {
    fail(`handling a ${data.length}-byte message (${Buffer.from(data).subarray(0, 8).toString('hex')}...): ${err.stack ?? err}`)
  }
  progress()
})

ws.on('unexpected-response', (_req, res) => {
  fail(`the server refused the WebSocket: HTTP ${res.statusCode} ${res.statusMessage}`)
})
ws.on('error', (err) => fail(`WebSocket error: ${err.message}`))
ws.on('close', (code, reason) => {
  if (!finished) fail(`the server closed the connection: ${code} ${String(reason)}`)
})
