/**
 * The Lua scripts behind every Redis store write. A script runs atomically on the server, so each store method
 * is one indivisible change (the contract's "nothing is half-written") and one round trip, with no WATCH retry
 * loops. ioredis sends them by EVALSHA and falls back to EVAL once after a SCRIPT FLUSH or a failover.
 *
 * Conventions: `ARGV[1]` is always the key prefix (`P`), so a script can name the keys it only learns from
 * stored data; `KEYS` holds every key the caller can name up front (Cluster routes a script by them). Times are
 * whole Unix seconds. Record TTLs are capped at the record's absolute expiry (`math.min(exp, abs)`): the
 * engine keeps `expiresAt <= absoluteExpiresAt` anyway, and the cap guarantees that a record never outlives
 * the per-user index that lists it (that index expires with the latest absolute expiry among its members).
 */
import type { Cluster, Redis } from 'ioredis'
import { LUA_KEY_LAYOUT } from './keys.js'
import { LUA_FACTOR_LAYOUT, LUA_SESSION_LAYOUT } from './records.js'

/** Helpers every script starts with. */
const PRELUDE = `
local P = ARGV[1]
${LUA_KEY_LAYOUT}
${LUA_SESSION_LAYOUT}
${LUA_FACTOR_LAYOUT}

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Moves key's expiry out to \`at\` (Unix seconds) unless it already expires later: an index lives as long as its
-- longest-lived member.
local function extend(key, at)
  local pttl = redis.call('PTTL', key)
  if pttl == -1 or (pttl >= 0 and now_ms() + pttl < at * 1000) then redis.call('EXPIREAT', key, at) end
end

-- Drops index members scored before the current second: Redis has already expired their records, so this keeps
-- an index from collecting dead entries even if nobody ever calls the deleteExpired* methods.
local function trim(key)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. math.floor(now_ms() / 1000))
end

-- Sessions are packed strings (records.ts), the one layout these scripts know. A session's packed string, false
-- if there is none, or UNCONVERTED for a key of another type: a session Sesame 0.1 wrote as a hash that layout
-- version 2 (migrations.ts) has not converted. Reads treat that as no session (fail closed) and say so, so the
-- store can warn; deletes remove it like any other record.
local UNCONVERTED = {}
local function load_session(key)
  local value = redis.pcall('GET', key)
  if type(value) ~= 'table' then return value end
  if string.find(value.err or '', 'WRONGTYPE', 1, true) then return UNCONVERTED end
  error(value.err)
end

-- A session as reads return it: {packed string, its User-Agent text or false}; nil if there is none, or
-- UNCONVERTED. A string that is not a packed session comes back as it is, for the caller to refuse.
local function read_session(key)
  local packed = load_session(key)
  if not packed or packed == UNCONVERTED then return packed or nil end
  local f = session_fields(packed)
  local ref = f and f.agent_ref
  return {packed, ref and ref ~= '' and redis.call('GET', user_agent(ref))}
end

-- The public id and the user id of a session as deletes see it: a record that is not a packed session (never
-- written by this release) still counts as there, with ids nobody matches, so a delete or a purge removes it
-- rather than failing on it forever. false if there is none.
local function ids_for_delete(key)
  local packed = load_session(key)
  if not packed then return false end
  local f = packed ~= UNCONVERTED and session_fields(packed)
  if not f then return '', nil end
  return f.id, f.user_id
end

-- Keeps the user's entry in the owners index at the earliest score in their sessions index, and removes it
-- with their last session, so a purge finds exactly the users with something due. The owners index lives as
-- long as the longest-lived sessions index it points into.
local function rescore_owner(uid)
  local index = user_sessions(uid)
  local first = redis.call('ZRANGE', index, 0, 0, 'WITHSCORES')
  if #first == 0 then
    redis.call('ZREM', SESSION_OWNERS, uid)
    return
  end
  redis.call('ZADD', SESSION_OWNERS, first[2], uid)
  local pttl = redis.call('PTTL', index)
  extend(SESSION_OWNERS, pttl > 0 and math.ceil((now_ms() + pttl) / 1000) or tonumber(first[2]))
end

-- Publishes a numbered sessions-changed notice for user \`uid\` (core/change-event.ts): once per user per script,
-- numbered by a count that moves in this same atomic step, so an instance that misses the message can tell from
-- the count (engine/session-cache.ts). Every write that ends a session or changes a user calls it.
local announced = {}
local function announce(uid)
  if not uid or uid == '' or announced[uid] then return end
  announced[uid] = true
  local seq = redis.call('INCR', SESSION_CHANGE_COUNT)
  redis.call('PUBLISH', CHANGES,
    '{"type":"sessions-changed","userId":' .. cjson.encode(uid) .. ',"seq":' .. seq .. '}')
end

-- Removes a token hash from a user's sessions index.
local function unindex_session(th, uid)
  redis.call('ZREM', user_sessions(uid), th)
  rescore_owner(uid)
end

-- Deletes a session and its index entries; 1 if the session record was still there. \`uid\` names the index
-- the caller found it in, if any: Redis may have expired the record, leaving its index entry behind.
local function drop_session(th, uid)
  local key = session(th)
  local id, owner = ids_for_delete(key)
  if not id then
    if uid then unindex_session(th, uid) end
    return 0
  end
  redis.call('DEL', key)
  if owner and owner ~= uid then unindex_session(th, owner) end
  if uid then unindex_session(th, uid) end
  announce(owner or uid)
  return 1
end

-- Trims up to two users' sessions indexes whose earliest session Redis has already expired, so the owners
-- index does not collect dead entries even if nobody ever calls deleteExpiredSessions.
local function tidy_owners()
  local now = '(' .. math.floor(now_ms() / 1000)
  for _, uid in ipairs(redis.call('ZRANGEBYSCORE', SESSION_OWNERS, '-inf', now, 'LIMIT', 0, 2)) do
    trim(user_sessions(uid))
    rescore_owner(uid)
  end
end

-- Deletes a family, every token ever issued in it, and its index entries; 1 if the family record was still there.
local function drop_family(fid)
  local tokens = family_tokens(fid)
  for _, th in ipairs(redis.call('SMEMBERS', tokens)) do redis.call('DEL', refresh_token(th)) end
  redis.call('DEL', tokens)
  redis.call('ZREM', FAMILY_EXPIRY, fid)
  local key = family(fid)
  local uid = redis.call('HGET', key, 'userId')
  if not uid then return 0 end
  redis.call('DEL', key)
  redis.call('ZREM', user_families(uid), fid)
  return 1
end

-- Deletes every session in the user's index except the one with public id \`keep\` ('' for none); how many.
local function drop_user_sessions(index, uid, keep)
  local deleted = 0
  for _, th in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    local id = ids_for_delete(session(th))
    if not id then
      drop_session(th, uid)
    elseif id ~= keep then
      deleted = deleted + drop_session(th, uid)
    end
  end
  return deleted
end

-- Revokes at \`now\` every unrevoked family in the user's index except \`keep\` ('' for none); the ids revoked.
local function revoke_user_families(index, now, keep)
  local revoked = {}
  for _, fid in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    local key = family(fid)
    if redis.call('EXISTS', key) == 0 then
      redis.call('ZREM', index, fid)
    elseif fid ~= keep and redis.call('HEXISTS', key, 'revokedAt') == 0 then
      redis.call('HSET', key, 'revokedAt', now)
      revoked[#revoked + 1] = fid
    end
  end
  return revoked
end

-- The device limit for one more device of user \`uid\` (\`max\` 0: none), run by the script that then creates it,
-- so no other create can count in between. false when the \`deny\` policy refuses; else the ids of the families it
-- revoked (at \`now\`) to make room: the oldest live devices go, sessions deleted, families revoked. Unconverted
-- sessions (see load_session) are not counted: reads treat them as none.
local function make_room(uid, max, now, policy)
  local evicted = {}
  if max == 0 then return evicted end
  local live = {}
  for _, th in ipairs(redis.call('ZRANGE', user_sessions(uid), 0, -1)) do
    local packed = load_session(session(th))
    local f = packed and packed ~= UNCONVERTED and session_fields(packed)
    if f and tonumber(f.expires_at) > now and tonumber(f.absolute_expires_at) > now then
      live[#live + 1] = {tonumber(f.created_at), f.id, th}
    end
  end
  for _, fid in ipairs(redis.call('ZRANGE', user_families(uid), 0, -1)) do
    local h = redis.call('HMGET', family(fid), 'createdAt', 'expiresAt', 'revokedAt')
    if h[1] and not h[3] and tonumber(h[2]) > now then live[#live + 1] = {tonumber(h[1]), fid, false} end
  end
  local excess = #live - max + 1
  if excess <= 0 then return evicted end
  if policy == 'deny' then return false end
  table.sort(live, function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end)
  for i = 1, excess do
    local device = live[i]
    if device[3] then
      drop_session(device[3], uid)
    else
      redis.call('HSET', family(device[2]), 'revokedAt', now)
      evicted[#evicted + 1] = device[2]
    end
  end
  return evicted
end

-- Deletes a one-time token, its entry in its user's index and its expiry entry; 1 if the token was still there.
local function drop_one_time_token(th)
  redis.call('ZREM', ONE_TIME_TOKEN_EXPIRY, th)
  local key = one_time_token(th)
  local owner = redis.call('HMGET', key, 'userId', 'purpose')
  if not owner[1] then return 0 end
  redis.call('DEL', key)
  local index = user_one_time_tokens(owner[1])
  if redis.call('HGET', index, owner[2]) == th then redis.call('HDEL', index, owner[2]) end
  return 1
end

-- Deletes the email entry \`key\` if it leads to user \`uid\`: an account the key migration left keyless has no
-- key entry of its own, and the one its email's key names belongs to an older account.
local function drop_email_entry(key, uid)
  if redis.call('GET', key) == uid then redis.call('DEL', key) end
end

-- A user's factors live in one hash (records.ts), lookup key -> packed factor. The factor with public id \`fid\`
-- in the factors hash \`key\`: its lookup key and its fields; nil if the user has none with that id.
local function find_factor(key, fid)
  local stored = redis.call('HGETALL', key)
  for i = 1, #stored, 2 do
    local f = factor_fields(stored[i + 1])
    if f.id == fid then return stored[i], f end
  end
end

-- How many passkeys the factors hash \`key\` holds: the factors that sign a user in on their own (a TOTP secret or
-- a recovery code does not).
local function count_passkeys(key)
  local count = 0
  for _, packed in ipairs(redis.call('HVALS', key)) do
    if factor_fields(packed).kind == 'passkey' then count = count + 1 end
  end
  return count
end

-- Whether removing ONE of a user's identities or passkeys would leave no way to sign in (isLastSignInMethod in
-- store/identities.ts): no password, and at most that one identity or passkey. Read in the script that then
-- removes it, so two concurrent removals cannot both pass. A user that is gone has no password.
local function is_last_sign_in_method(user_key, identities_key, factors_key)
  return redis.call('HEXISTS', user_key, 'passwordHash') == 0
    and redis.call('HLEN', identities_key) + count_passkeys(factors_key) <= 1
end

-- Stores a user's epoch: the later epoch and the later expiry are kept, each on its own.
local function set_epoch(key, index, uid, epoch, expires_at)
  redis.call('ZADD', index, 'GT', expires_at, uid)
  local exp = tonumber(redis.call('ZSCORE', index, uid))
  local current = redis.call('GET', key)
  if not current or tonumber(current) < tonumber(epoch) then redis.call('SET', key, epoch) end
  redis.call('EXPIREAT', key, exp)
  trim(index)
  extend(index, exp)
end
`

/** The stamp and the user id of a home entry (`<ms> <stamp> <user id>`, see `claimHome`). */
const HOME_FIELDS = `
local function home_fields(entry)
  local first = string.find(entry, ' ', 1, true)
  local second = first and string.find(entry, ' ', first + 1, true)
  if not second then return '', '' end
  return string.sub(entry, first + 1, second - 1), string.sub(entry, second + 1)
end`

/** Each script: how many of its arguments are keys, and its body (which runs after {@link PRELUDE}). */
const SCRIPTS = {
  // KEYS: email, email key, user. ARGV: P, id, field/value pairs. The script is the uniqueness check: of two
  // racing sign-ups with one email key exactly one finds both free, and only that one writes a user hash.
  createUser: {
    keys: 3,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], unpack(ARGV, 3))
return 1`,
  },

  // KEYS: email, email key, user, identity, user identities. ARGV: P, user id, provider, subject, the number n of
  // the user's field/value pairs, those pairs, then the identity's. 1 created; 0 the email (or its key) is taken;
  // -1 the identity is linked already; nothing is written unless 1. The script is both checks: of racing sign-ups
  // with one email key or one identity, exactly one finds them free.
  createUserWithIdentity: {
    keys: 5,
    lua: `
if redis.call('EXISTS', KEYS[4]) == 1 then return -1 end
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local n = tonumber(ARGV[5])
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], unpack(ARGV, 6, 5 + 2 * n))
redis.call('HSET', KEYS[4], unpack(ARGV, 6 + 2 * n))
redis.call('HSET', KEYS[5], ARGV[3], ARGV[4])
return 1`,
  },

  // KEYS: user, identity, user identities. ARGV: P, provider, subject, the identity's field/value pairs. 1 linked;
  // 0 no such user; -1 the identity is linked already (to this user or another); -2 the user has an identity at
  // that provider. Checks and write in one script, so two links cannot both find room.
  linkIdentity: {
    keys: 3,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
if redis.call('HEXISTS', KEYS[3], ARGV[2]) == 1 then return -2 end
redis.call('HSET', KEYS[2], unpack(ARGV, 4))
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
return 1`,
  },

  // KEYS: user identities. ARGV: P. The user's identities, each as a flat field/value list, in no order.
  listUserIdentities: {
    keys: 1,
    lua: `
local found = {}
local linked = redis.call('HGETALL', KEYS[1])
for i = 1, #linked, 2 do
  local fields = redis.call('HGETALL', identity(linked[i] .. ':' .. linked[i + 1]))
  if #fields > 0 then found[#found + 1] = fields end
end
return found`,
  },

  // KEYS: user, user identities, user factors. ARGV: P, provider. 1 unlinked; 0 the user has no identity there;
  // -1 it is the user's last way to sign in (no password, no other identity, no passkey), and nothing changes.
  // Check and delete in one script, so two unlinks (or an unlink and a passkey's removal) cannot both pass it.
  unlinkIdentity: {
    keys: 3,
    lua: `
local subject = redis.call('HGET', KEYS[2], ARGV[2])
if not subject then return 0 end
if is_last_sign_in_method(KEYS[1], KEYS[2], KEYS[3]) then return -1 end
redis.call('DEL', identity(ARGV[2] .. ':' .. subject))
redis.call('HDEL', KEYS[2], ARGV[2])
return 1`,
  },

  // KEYS: user, user identities, user factors. ARGV: P, user id. 1 the user has no password now (also when it had
  // none); 0 no such user; -1 the password is the user's only way in (no identity, no passkey), and nothing
  // changes. Check and write in one script, so a passkey's removal or an unlink racing it cannot both pass. A
  // change of the user: announced, and confirmed on replicas, as a new password is (updateUser).
  removePassword: {
    keys: 3,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HLEN', KEYS[2]) + count_passkeys(KEYS[3]) == 0 then return -1 end
redis.call('HDEL', KEYS[1], 'passwordHash')
announce(ARGV[2])
return 1`,
  },

  // Factors (records.ts): none announces, as the session caches hold none. KEYS: user, user factors. ARGV: P,
  // lookup key, packed factor. 1 added; 0 no such user; -1 the user has a factor with that lookup key, and nothing
  // changes. HSETNX is the check: of concurrent adds with one lookup key, exactly one finds it free.
  addFactor: {
    keys: 2,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[3]) == 1 and 1 or -1`,
  },

  // KEYS: user, user factors. ARGV: P, kind, then lookup key / packed factor pairs (all of that kind). 1 replaced
  // (every factor of the kind the user had is gone, the given ones stored); 0 no such user, and nothing changes.
  replaceFactors: {
    keys: 2,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local stored = redis.call('HGETALL', KEYS[2])
for i = 1, #stored, 2 do
  if factor_fields(stored[i + 1]).kind == ARGV[2] then redis.call('HDEL', KEYS[2], stored[i]) end
end
if #ARGV > 2 then redis.call('HSET', KEYS[2], unpack(ARGV, 3)) end
return 1`,
  },

  // KEYS: user factors. ARGV: P, factor id, expected counter, counter, now (decimal text). The compare-and-set of a
  // use: 1 if the factor's counter was still the expected one, and is now the new one with lastUsedAt now; else 0
  // and nothing changes. Counters are compared as the text they are stored as, so no double ever rounds one.
  advanceFactor: {
    keys: 1,
    lua: `
local lookup, f = find_factor(KEYS[1], ARGV[2])
if not lookup or f.counter ~= ARGV[3] then return 0 end
f.counter, f.last_used_at = ARGV[4], ARGV[5]
redis.call('HSET', KEYS[1], lookup, pack_factor(f))
return 1`,
  },

  // KEYS: user factors. ARGV: P, kind, lookup key. 1 taken (deleted); 0 none with that key, or of another kind
  // (which stays). One script, so of concurrent takes of a recovery code exactly one gets it.
  takeFactor: {
    keys: 1,
    lua: `
local packed = redis.call('HGET', KEYS[1], ARGV[3])
if not packed or factor_fields(packed).kind ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[3])
return 1`,
  },

  // KEYS: user factors. ARGV: P, factor id, name. 1 renamed; 0 the user has no factor with that id.
  renameFactor: {
    keys: 1,
    lua: `
local lookup, f = find_factor(KEYS[1], ARGV[2])
if not lookup then return 0 end
f.name = ARGV[3]
redis.call('HSET', KEYS[1], lookup, pack_factor(f))
return 1`,
  },

  // KEYS: user, user identities, user factors. ARGV: P, factor id. 1 removed; 0 the user has no factor with that
  // id; -1 it is a passkey and the user's last way to sign in (no password, no identity, no other passkey), and
  // nothing changes. Check and delete in one script, as for unlinkIdentity.
  removeFactor: {
    keys: 3,
    lua: `
local lookup, f = find_factor(KEYS[3], ARGV[2])
if not lookup then return 0 end
if f.kind == 'passkey' and is_last_sign_in_method(KEYS[1], KEYS[2], KEYS[3]) then return -1 end
redis.call('HDEL', KEYS[3], lookup)
return 1`,
  },

  // KEYS: email, email key. ARGV: P. The user hash as a flat field/value list, or an empty list. The exact email
  // first: it differs from the key's holder only for accounts the key migration left keyless.
  findUserByEmail: {
    keys: 2,
    lua: `
local id = redis.call('GET', KEYS[1]) or redis.call('GET', KEYS[2])
if not id then return {} end
return redis.call('HGETALL', user(id))`,
  },

  // KEYS: user. ARGV: P, email, verifiedAt, user id. 1 if set; 0 when the user is gone or has another email now.
  setEmailVerified: {
    keys: 1,
    lua: `
if redis.call('HGET', KEYS[1], 'email') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'emailVerifiedAt', ARGV[3])
announce(ARGV[4])
return 1`,
  },

  // KEYS: user, its email, its email key (as read by the caller), the new email, its key. ARGV: P, user id, the
  // email the caller read, the new email, verifiedAt. 1 moved; 0 no such user; -1 another user holds the new
  // email or its key, and nothing changes; -2 the user's email is no longer the one read, so the old entries
  // named are not its own (the caller reads again and retries). Lua has no Unicode normalisation, hence the
  // caller computes the keys. The script is the check: of racing changes and sign-ups to one key, exactly one
  // finds it free.
  changeUserEmail: {
    keys: 5,
    lua: `
local uid = ARGV[2]
local current = redis.call('HGET', KEYS[1], 'email')
if not current then return 0 end
if current ~= ARGV[3] then return -2 end
for _, key in ipairs({KEYS[4], KEYS[5]}) do
  local holder = redis.call('GET', key)
  if holder and holder ~= uid then return -1 end
end
drop_email_entry(KEYS[2], uid)
drop_email_entry(KEYS[3], uid)
redis.call('SET', KEYS[4], uid)
redis.call('SET', KEYS[5], uid)
redis.call('HSET', KEYS[1], 'email', ARGV[4], 'emailVerifiedAt', ARGV[5])
announce(uid)
return 1`,
  },

  // KEYS: user, its email, its email key (as read by the caller), user identities, user one-time tokens, user
  // sessions, user families, user consents, user factors. ARGV: P, user id, the email the caller read. Deletes the
  // user and, in this one script, its email entries, identities, factors, one-time tokens, consents, sessions and
  // families with their tokens and every index entry of them; its epoch stays (it must keep refusing access
  // tokens until it expires). 1 deleted; 0 no such user; -2 as for changeUserEmail.
  deleteUser: {
    keys: 9,
    lua: `
local uid = ARGV[2]
local current = redis.call('HGET', KEYS[1], 'email')
if not current then return 0 end
if current ~= ARGV[3] then return -2 end
drop_email_entry(KEYS[2], uid)
drop_email_entry(KEYS[3], uid)
local linked = redis.call('HGETALL', KEYS[4])
for i = 1, #linked, 2 do redis.call('DEL', identity(linked[i] .. ':' .. linked[i + 1])) end
local tokens = redis.call('HGETALL', KEYS[5])
for i = 2, #tokens, 2 do
  if redis.call('HGET', one_time_token(tokens[i]), 'userId') == uid then drop_one_time_token(tokens[i]) end
end
for _, th in ipairs(redis.call('ZRANGE', KEYS[6], 0, -1)) do drop_session(th, uid) end
for _, fid in ipairs(redis.call('ZRANGE', KEYS[7], 0, -1)) do drop_family(fid) end
for _, cid in ipairs(redis.call('HKEYS', KEYS[8])) do redis.call('SREM', client_consenters(cid), uid) end
redis.call('DEL', KEYS[1], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9])
redis.call('ZREM', SESSION_OWNERS, uid)
announce(uid)
return 1`,
  },

  // KEYS: user. ARGV: P, user id, n, n field/value pairs to set, then fields to delete. Never creates the hash.
  updateUser: {
    keys: 1,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local n = tonumber(ARGV[3])
if n > 0 then redis.call('HSET', KEYS[1], unpack(ARGV, 4, 3 + 2 * n)) end
if #ARGV > 3 + 2 * n then redis.call('HDEL', KEYS[1], unpack(ARGV, 4 + 2 * n)) end
announce(ARGV[2])
return 1`,
  },

  // KEYS: session, user sessions, session owners, User-Agent. ARGV: P, token hash, user id, expiresAt,
  // absoluteExpiresAt, packed session, the device limit (max, 0 for none; now; policy), then the User-Agent
  // text if the session has one (the packed session's agent reference names KEYS[4] then; without one, KEYS[4]
  // is not touched). -1 when the limit denies it (nothing written), else the family ids evicted for it.
  createSession: {
    keys: 4,
    lua: `
local th, uid, exp, abs = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local evicted = make_room(uid, tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9])
if not evicted then return -1 end
-- Token hashes are random and never repeat; if one ever did, the earlier session goes with its index entries.
drop_session(th)
redis.call('SET', KEYS[1], ARGV[6], 'EXAT', math.min(exp, abs))
if ARGV[10] then
  -- The first text under a reference stays: a second one could only be a deliberate SHA-256 collision.
  redis.call('SET', KEYS[4], ARGV[10], 'NX')
  extend(KEYS[4], abs)
end
redis.call('ZADD', KEYS[2], exp, th)
trim(KEYS[2])
extend(KEYS[2], abs)
rescore_owner(uid)
tidy_owners()
return evicted`,
  },

  // KEYS: session. ARGV: P, token hash, lastSeenAt, expiresAt. Renews only a session that is there, so a renewal
  // racing a logout never writes a session back. 1 if renewed, 0 if there is none, -1 for an unconverted one.
  touchSession: {
    keys: 1,
    lua: `
local th, seen, exp = ARGV[2], ARGV[3], ARGV[4]
local packed = load_session(KEYS[1])
if not packed then return 0 end
if packed == UNCONVERTED then return -1 end
local f = session_fields(packed)
if not f then error('A stored Redis session is not in the packed layout.') end
f.last_seen_at, f.expires_at = seen, exp
redis.call('SET', KEYS[1], pack_session(f), 'EXAT', math.min(tonumber(exp), tonumber(f.absolute_expires_at)))
redis.call('ZADD', user_sessions(f.user_id), 'XX', exp, th)
rescore_owner(f.user_id)
return 1`,
  },

  // KEYS: session. ARGV: P, token hash.
  deleteSession: {
    keys: 1,
    lua: `return drop_session(ARGV[2])`,
  },

  // KEYS: session. ARGV: P. {packed session, User-Agent text or nil}, {} without the session, or 0 for an
  // unconverted one.
  findSession: {
    keys: 1,
    lua: `
local found = read_session(KEYS[1])
if found == UNCONVERTED then return 0 end
return found or {}`,
  },

  // KEYS: session. ARGV: P. As findSession, plus the user's fields (an empty list if the user is gone): the
  // user's key comes from the session, so one round trip reads both.
  findSessionWithUser: {
    keys: 1,
    lua: `
local found = read_session(KEYS[1])
if found == UNCONVERTED then return 0 end
if not found then return {} end
local f = session_fields(found[1])
found[3] = f and redis.call('HGETALL', user(f.user_id)) or {}
return found`,
  },

  // KEYS: user sessions. ARGV: P. A list of {token hash, packed session, User-Agent text or nil}, and {token
  // hash} for each unconverted session (not listed: the store warns).
  listUserSessions: {
    keys: 1,
    lua: `
local found = {}
for _, th in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local s = read_session(session(th))
  if s == UNCONVERTED then
    found[#found + 1] = {th}
  elseif s then
    found[#found + 1] = {th, s[1], s[2]}
  end
end
return found`,
  },

  // KEYS: user sessions. ARGV: P, user id, session id. Only sessions in this user's index are candidates, so
  // another user's session id never matches.
  deleteUserSession: {
    keys: 1,
    lua: `
for _, th in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local id = ids_for_delete(session(th))
  if not id then
    drop_session(th, ARGV[2])
  elseif id == ARGV[3] then
    return drop_session(th)
  end
end
return 0`,
  },

  // KEYS: user sessions. ARGV: P, user id, session id to keep ('' for none). The number deleted.
  deleteUserSessions: {
    keys: 1,
    lua: `return drop_user_sessions(KEYS[1], ARGV[2], ARGV[3])`,
  },

  // KEYS: session owners. ARGV: P, now, batch size. {deleted, examined}: at most about a batch of index entries
  // per call, and the caller repeats while a call examines a full batch, so no single call blocks Redis for
  // long. An owner left with sessions due stays due.
  purgeSessions: {
    keys: 1,
    lua: `
local now, limit = ARGV[2], tonumber(ARGV[3])
local deleted, examined = 0, 0
for _, uid in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, limit)) do
  if examined >= limit then break end
  local due = redis.call('ZRANGEBYSCORE', user_sessions(uid), '-inf', now, 'LIMIT', 0, limit - examined)
  for _, th in ipairs(due) do deleted = deleted + drop_session(th, uid) end
  rescore_owner(uid) -- an owner whose sessions index Redis expired whole has nothing due, and goes here
  examined = examined + #due + 1
end
return {deleted, examined}`,
  },

  // Layout version 2 (migrations.ts): converts one session Sesame 0.1 wrote as a hash to the packed layout, in
  // one step, so live traffic never meets it half converted. KEYS: session, User-Agent. ARGV: P, token hash,
  // agent reference, then the User-Agent text it was computed from (absent without one; SHA-256 is not in
  // Redis's Lua, so the caller computes the reference from the hash it read). 1 converted; 0 not a hash
  // (converted already, or gone); -1 the hash's User-Agent is not that text (read again and retry); 2 unreadable
  // or already expired, so deleted. The token hash leaves 0.1's expiry index in every case.
  convertSession: {
    keys: 2,
    lua: `
local th, ref, text = ARGV[2], ARGV[3], ARGV[4]
redis.call('ZREM', SESSION_EXPIRY, th)
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return 0 end
local list, h = redis.call('HGETALL', KEYS[1]), {}
for i = 1, #list, 2 do h[list[i]] = list[i + 1] end
local stored = h.userAgent
if not stored and h['userAgent.0'] then
  local pieces = {}
  while h['userAgent.' .. #pieces] do pieces[#pieces + 1] = h['userAgent.' .. #pieces] end
  stored = table.concat(pieces)
end
if (stored or false) ~= (text or false) then return -1 end
local f = session_from_record(h, stored and ref or '')
local ok = valid_session(f)
local exp = ok and math.min(tonumber(f.expires_at), tonumber(f.absolute_expires_at))
redis.call('DEL', KEYS[1])
if not ok or exp * 1000 <= now_ms() then
  if type(h.userId) == 'string' then unindex_session(th, h.userId) end
  return 2
end
local abs = tonumber(f.absolute_expires_at)
redis.call('SET', KEYS[1], pack_session(f), 'EXAT', exp)
if stored then
  redis.call('SET', KEYS[2], stored, 'NX')
  extend(KEYS[2], abs)
end
local index = user_sessions(f.user_id)
redis.call('ZADD', index, f.expires_at, th)
extend(index, abs)
rescore_owner(f.user_id)
return 1`,
  },

  // KEYS: family, family tokens, refresh token, user families, family expiry index. ARGV: P, family id,
  // token hash, generation, expiresAt, absoluteExpiresAt, the device limit (max, 0 for none; now; policy),
  // user id, field/value pairs. -1 when the limit denies it (nothing written), else the family ids evicted.
  createFamily: {
    keys: 5,
    lua: `
local fid, th, exp, abs = ARGV[2], ARGV[3], tonumber(ARGV[5]), tonumber(ARGV[6])
local evicted = make_room(ARGV[10], tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9])
if not evicted then return -1 end
-- Ids are random and never repeat; if one ever did, no token of the earlier family may lead to this one.
drop_family(fid)
redis.call('HSET', KEYS[1], unpack(ARGV, 11))
redis.call('EXPIREAT', KEYS[1], math.min(exp, abs))
redis.call('SET', KEYS[3], ARGV[4] .. ':' .. fid)
redis.call('EXPIREAT', KEYS[3], abs)
redis.call('SADD', KEYS[2], th)
extend(KEYS[2], abs)
redis.call('ZADD', KEYS[4], abs, fid)
trim(KEYS[4])
extend(KEYS[4], abs)
redis.call('ZADD', KEYS[5], exp, fid)
trim(KEYS[5])
extend(KEYS[5], exp)
return evicted`,
  },

  // KEYS: refresh token. ARGV: P. {generation, family field/value list}, or an empty list.
  findRefreshToken: {
    keys: 1,
    lua: `
local token = redis.call('GET', KEYS[1])
if not token then return {} end
local sep = string.find(token, ':', 1, true)
local fields = redis.call('HGETALL', family(string.sub(token, sep + 1)))
if #fields == 0 then return {} end
return {string.sub(token, 1, sep - 1), fields}`,
  },

  // KEYS: family, family tokens, new refresh token, family expiry index. ARGV: P, family id, expected
  // generation, new token hash, now, expiresAt, successor seal. The compare-and-set: of concurrent rotations
  // from one generation, the first to run moves the generation (and sets the seal) and every later one fails its
  // compare before writing anything.
  rotateFamily: {
    keys: 4,
    lua: `
local fid, th, now, exp = ARGV[2], ARGV[4], ARGV[5], tonumber(ARGV[6])
local generation = redis.call('HGET', KEYS[1], 'generation')
if not generation or tonumber(generation) ~= tonumber(ARGV[3]) then return 0 end
if redis.call('HEXISTS', KEYS[1], 'revokedAt') == 1 then return 0 end
local abs = tonumber(redis.call('HGET', KEYS[1], 'absoluteExpiresAt'))
local next_generation = tonumber(generation) + 1
redis.call('HSET', KEYS[1], 'generation', next_generation, 'rotatedAt', now, 'lastUsedAt', now, 'expiresAt', ARGV[6],
  'successorSeal', ARGV[7])
redis.call('EXPIREAT', KEYS[1], math.min(exp, abs))
redis.call('SET', KEYS[3], next_generation .. ':' .. fid)
redis.call('EXPIREAT', KEYS[3], abs)
redis.call('SADD', KEYS[2], th)
extend(KEYS[2], abs)
redis.call('ZADD', KEYS[4], exp, fid)
trim(KEYS[4])
extend(KEYS[4], exp)
return 1`,
  },

  // KEYS: family. ARGV: P, now. Revokes once: 0 if unknown or already revoked.
  revokeFamily: {
    keys: 1,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'revokedAt') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'revokedAt', ARGV[2])
return 1`,
  },

  // KEYS: user families. ARGV: P. A list of flat field/value lists.
  listUserFamilies: {
    keys: 1,
    lua: `
local found = {}
for _, fid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local fields = redis.call('HGETALL', family(fid))
  if #fields > 0 then found[#found + 1] = fields end
end
return found`,
  },

  // KEYS: user families. ARGV: P, now, family id to spare ('' for none). The ids it revoked.
  revokeUserFamilies: {
    keys: 1,
    lua: `return revoke_user_families(KEYS[1], ARGV[2], ARGV[3])`,
  },

  // KEYS: user epoch, epochs index, user sessions, user families. ARGV: P, user id, epoch ('' for none), the
  // epoch's user id and expiresAt, session id to keep, family id to spare ('' for none), now. "Log out
  // everywhere" as one script, so Redis runs all of it or none: the epoch first, then the sessions, then the
  // families. {sessions deleted, family ids revoked}.
  endUserDevices: {
    keys: 4,
    lua: `
if ARGV[3] ~= '' then set_epoch(KEYS[1], KEYS[2], ARGV[4], ARGV[3], ARGV[5]) end
local ended = drop_user_sessions(KEYS[3], ARGV[2], ARGV[6])
return {ended, revoke_user_families(KEYS[4], ARGV[8], ARGV[7])}`,
  },

  // KEYS: family expiry index. ARGV: P, now, batch size. {deleted, examined}, as for sessions.
  purgeFamilies: {
    keys: 1,
    lua: `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])
local deleted = 0
for _, fid in ipairs(due) do deleted = deleted + drop_family(fid) end
return {deleted, #due}`,
  },

  // KEYS: revocations. ARGV: P, member, expiresAt. ZADD GT: a later expiry wins, an earlier one changes nothing.
  addRevocation: {
    keys: 1,
    lua: `
redis.call('ZADD', KEYS[1], 'GT', ARGV[3], ARGV[2])
trim(KEYS[1])
extend(KEYS[1], tonumber(ARGV[3]))
return 1`,
  },

  // KEYS: user epoch, epochs index. ARGV: P, user id, epoch, expiresAt. The later epoch and the later expiry
  // are kept, each on its own.
  setUserEpoch: {
    keys: 2,
    lua: `
set_epoch(KEYS[1], KEYS[2], ARGV[2], ARGV[3], ARGV[4])
return 1`,
  },

  // KEYS: epochs index. ARGV: P, now. {user id, epoch, expiresAt} for each epoch expiring after now.
  listUserEpochs: {
    keys: 1,
    lua: `
local found = {}
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[2], '+inf', 'WITHSCORES')
for i = 1, #live, 2 do
  local epoch = redis.call('GET', user_epoch(live[i]))
  if epoch then found[#found + 1] = {live[i], epoch, live[i + 1]} end
end
return found`,
  },

  // KEYS: revocations, epochs index. ARGV: P, now. How many revocations and epochs it deleted.
  purgeRevocations: {
    keys: 2,
    lua: `
local deleted = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
for _, uid in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])) do
  deleted = deleted + redis.call('DEL', user_epoch(uid))
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
return deleted`,
  },

  // KEYS: rate-limit counter. ARGV: P, the second its window ends. INCR and EXPIREAT together, so the counter
  // never exists without its TTL; the new count. EXPIREAT runs on Redis's clock: a window already over there
  // deletes the counter at once (the hit still counts 1), so keep Redis and the servers on NTP.
  // EXPIREAT is set on every hit (same value each time), so even a counter left without a TTL gets one.
  hitRateLimit: {
    keys: 1,
    lua: `
local count = redis.call('INCR', KEYS[1])
redis.call('EXPIREAT', KEYS[1], ARGV[2])
return count`,
  },

  // KEYS: claim, claim expiry index. ARGV: P, key, expiresAt, now. 1 claimed; 0 held by a claim that ends after
  // `now`, and nothing changes. The stored value (the second the claim ends) is judged by the caller's `now`, as
  // the SQL stores judge theirs, so one script decides for every instance. The TTL (EXAT) runs on Redis's clock,
  // though: with Redis's clock ahead of the servers', Redis ends a claim early and the key can be claimed again
  // that much before `expiresAt`; an `expiresAt` already past there leaves nothing stored. Keep both on NTP.
  claimOnce: {
    keys: 2,
    lua: `
local held = redis.call('GET', KEYS[1])
if held and tonumber(held) > tonumber(ARGV[4]) then return 0 end
redis.call('SET', KEYS[1], ARGV[3], 'EXAT', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
trim(KEYS[2])
extend(KEYS[2], tonumber(ARGV[3]))
return 1`,
  },

  // KEYS: claim expiry index. ARGV: P, now, batch size. {deleted, examined}, as for sessions. An index entry's
  // score is its claim's `expiresAt` (both are written by one script), so a due entry names a due claim.
  purgeClaims: {
    keys: 1,
    lua: `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])
local deleted = 0
for _, key in ipairs(due) do
  deleted = deleted + redis.call('DEL', claim(key))
  redis.call('ZREM', KEYS[1], key)
end
return {deleted, #due}`,
  },

  // KEYS: one-time token, user one-time tokens, token expiry index. ARGV: P, purpose, token hash, expiresAt, the
  // token's field/value pairs. The user's previous token of that purpose goes in the same script, so at no moment
  // do two of them work. The TTL (EXAT) runs on Redis's clock, as for claims.
  putOneTimeToken: {
    keys: 3,
    lua: `
local purpose, th, exp = ARGV[2], ARGV[3], tonumber(ARGV[4])
local previous = redis.call('HGET', KEYS[2], purpose)
if previous then drop_one_time_token(previous) end
-- Token hashes are random and never repeat; if one ever did, the earlier token goes with its index entries.
drop_one_time_token(th)
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('EXPIREAT', KEYS[1], exp)
redis.call('HSET', KEYS[2], purpose, th)
extend(KEYS[2], exp)
redis.call('ZADD', KEYS[3], exp, th)
trim(KEYS[3])
extend(KEYS[3], exp)
return 1`,
  },

  // KEYS: one-time token. ARGV: P, token hash, purpose, now. The token's field/value list, deleted with its
  // index entries, if it has that purpose and has not expired at `now`; else an empty list, and nothing changes
  // (an expired token is left for the purge). One script, so of concurrent takes exactly one gets it.
  takeOneTimeToken: {
    keys: 1,
    lua: `
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return {} end
local h = {}
for i = 1, #fields, 2 do h[fields[i]] = fields[i + 1] end
if h.purpose ~= ARGV[3] or tonumber(h.expiresAt) <= tonumber(ARGV[4]) then return {} end
drop_one_time_token(ARGV[2])
return fields`,
  },

  // KEYS: token expiry index. ARGV: P, now, batch size. {deleted, examined}, as for sessions. An index entry's
  // score is its token's `expiresAt` (both are written by one script, and a token is never rewritten), so a due
  // entry names a due token.
  purgeOneTimeTokens: {
    keys: 1,
    lua: `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, ARGV[3])
local deleted = 0
for _, th in ipairs(due) do deleted = deleted + drop_one_time_token(th) end
return {deleted, #due}`,
  },

  // KEYS: client, clients index. ARGV: P, client id, the client's field/value pairs. 1 created; 0 the id is taken,
  // and nothing changes. The script is the check: of racing creates with one id, exactly one finds it free.
  createClient: {
    keys: 2,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], 0, ARGV[2])
return 1`,
  },

  // KEYS: clients index. ARGV: P. Every client as a flat field/value list, by id (the index's members all score
  // 0, so ZRANGE orders them byte by byte).
  listClients: {
    keys: 1,
    lua: `
local found = {}
for _, cid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local fields = redis.call('HGETALL', client(cid))
  if #fields > 0 then found[#found + 1] = fields end
end
return found`,
  },

  // KEYS: client, client consenters, clients index. ARGV: P, client id. 1 deleted, with every consent given to
  // it (found through its consenters, one user at a time); 0 no such client.
  deleteClient: {
    keys: 3,
    lua: `
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
for _, uid in ipairs(redis.call('SMEMBERS', KEYS[2])) do redis.call('HDEL', user_consents(uid), ARGV[2]) end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[2])
return 1`,
  },

  // KEYS: user, client, user consents, client consenters. ARGV: P, user id, client id, the consent's JSON. 1
  // stored (replacing the user's earlier consent to the client); 0 the user or the client is gone, and nothing is
  // stored: a consent outliving the delete that ended it would pass to a client registered again under that id.
  putConsent: {
    keys: 4,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
redis.call('SADD', KEYS[4], ARGV[2])
return 1`,
  },

  // KEYS: user consents, client consenters. ARGV: P, user id, client id. 1 deleted; 0 there was none.
  deleteConsent: {
    keys: 2,
    lua: `
local deleted = redis.call('HDEL', KEYS[1], ARGV[3])
redis.call('SREM', KEYS[2], ARGV[2])
return deleted`,
  },

  // The Cluster store's homes (`sharded.ts`): an entry naming the user that holds an email key or an identity,
  // in the group of what it names, as `<Redis ms> <stamp> <user id>` while the change that claimed it is under
  // way, and `0 <stamp> <user id>` once it is done (settled). The stamp is the claiming call's own, so a call
  // settles or drops only what it wrote, and a compare-and-set sees any claim made since it read.
  // KEYS: home. ARGV: P, user id, stamp. {0} claimed anew, {1} the user's already (now stamped by this call);
  // else {2, the entry as it is, Redis's ms now}, and nothing changes.
  claimHome: {
    keys: 1,
    lua: `${HOME_FIELDS}
local held = redis.call('GET', KEYS[1])
if held and select(2, home_fields(held)) ~= ARGV[2] then return {2, held, tostring(now_ms())} end
redis.call('SET', KEYS[1], now_ms() .. ' ' .. ARGV[3] .. ' ' .. ARGV[2])
return {held and 1 or 0}`,
  },

  // KEYS: home. ARGV: P, the entry as read, user id ('' to delete the entry), stamp. 1 if the entry was still
  // the one read, and is now the user's (or gone); 0 changed since, and nothing changes.
  swapHome: {
    keys: 1,
    lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
if ARGV[3] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], now_ms() .. ' ' .. ARGV[4] .. ' ' .. ARGV[3])
end
return 1`,
  },

  // KEYS: home. ARGV: P, user id, stamp, 'settle' or 'drop'. Settles or deletes the entry if it is still that
  // call's claim; 1 if it did.
  endHomeClaim: {
    keys: 1,
    lua: `${HOME_FIELDS}
local held = redis.call('GET', KEYS[1])
if not held then return 0 end
local stamp, owner = home_fields(held)
if stamp ~= ARGV[3] or owner ~= ARGV[2] then return 0 end
if ARGV[4] == 'settle' then redis.call('SET', KEYS[1], '0 ' .. stamp .. ' ' .. owner) else redis.call('DEL', KEYS[1]) end
return 1`,
  },

  // The Cluster store's consents, whose client and user live in different groups. KEYS: client, client
  // consenters. ARGV: P, user id. 1 listed (before the consent is written, so a delete of the client finds it);
  // 0 no such client.
  enrolConsenter: {
    keys: 2,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SADD', KEYS[2], ARGV[2])
return 1`,
  },

  // KEYS: user, user consents. ARGV: P, client id, the consent's JSON. 1 stored; 0 no such user.
  putUserConsent: {
    keys: 2,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1`,
  },

  // KEYS: secret. ARGV: P, value. SET NX then GET: every concurrent first caller reads the one value stored.
  getOrCreateSecret: {
    keys: 1,
    lua: `
redis.call('SET', KEYS[1], ARGV[2], 'NX')
return redis.call('GET', KEYS[1])`,
  },

  // KEYS: signing keys, retired keys. ARGV: P, kid, JSON of the fixed fields, retiredAt ('' for null).
  createSigningKey: {
    keys: 2,
    lua: `
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
if ARGV[4] == '' then redis.call('HDEL', KEYS[2], ARGV[2]) else redis.call('HSET', KEYS[2], ARGV[2], ARGV[4]) end
return 1`,
  },

  // KEYS: signing keys, retired keys. ARGV: P, kid, JSON of the fixed fields, alg. Stores the key unless an
  // unretired key of that alg exists; returns the JSON of the unretired key after the call (the newest, if
  // several). One script, so concurrent first starts cannot both find none. A stored JSON that does not decode
  // is skipped here, as reading it would fail anyway.
  createFirstSigningKey: {
    keys: 2,
    lua: `
local found, foundCreated, foundKid
local stored = redis.call('HGETALL', KEYS[1])
for i = 1, #stored, 2 do
  local kid, json = stored[i], stored[i + 1]
  if redis.call('HEXISTS', KEYS[2], kid) == 0 then
    local ok, fields = pcall(cjson.decode, json)
    if ok and type(fields) == 'table' and fields.alg == ARGV[4] then
      local created = tonumber(fields.createdAt) or 0
      if not found or created > foundCreated or (created == foundCreated and kid > foundKid) then
        found, foundCreated, foundKid = json, created, kid
      end
    end
  end
end
if found then return found end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('HDEL', KEYS[2], ARGV[2])
return ARGV[3]`,
  },

  // KEYS: signing keys, retired keys. ARGV: P, kid to keep, retiredAt.
  retireSigningKeys: {
    keys: 2,
    lua: `
for _, kid in ipairs(redis.call('HKEYS', KEYS[1])) do
  if kid ~= ARGV[2] and redis.call('HEXISTS', KEYS[2], kid) == 0 then redis.call('HSET', KEYS[2], kid, ARGV[3]) end
end
return 1`,
  },

  // KEYS: signing keys, retired keys. ARGV: P, kid. 1 if the key existed.
  deleteSigningKey: {
    keys: 2,
    lua: `
local deleted = redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
return deleted`,
  },

  // KEYS: signing keys, retired keys. ARGV: P. Both hashes as flat lists, read in one snapshot.
  listSigningKeys: {
    keys: 2,
    lua: `return {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}`,
  },
} as const satisfies Record<string, { keys: number; lua: string }>

export type ScriptName = keyof typeof SCRIPTS

/** Runs one script: `keys` must have the script's key count; the prefix is passed for it. */
export type RunScript = (
  name: ScriptName,
  keys: readonly string[],
  args: ReadonlyArray<string | number>,
) => Promise<unknown>

/**
 * The scripts that end a session, revoke a token or change what a user may do: with `confirm`, each is followed
 * by WAIT on the same connection, so that an answered revocation is on the replicas too and survives a
 * failover (Redis replicates asynchronously: a promoted replica lacks whatever it had not yet received).
 * Rotation is one of them: a rotation lost at failover would make the token it retired usable again. So are
 * the Cluster store's home entries, whose user's change is confirmed on another shard: an entry lost at
 * failover would let a second account take an email or identity its user still holds.
 */
const CONFIRMED: ReadonlySet<ScriptName> = new Set<ScriptName>([
  'claimHome',
  'swapHome',
  'endHomeClaim',
  'changeUserEmail',
  'deleteUser',
  'updateUser',
  'removePassword',
  'deleteSession',
  'deleteUserSession',
  'deleteUserSessions',
  'rotateFamily',
  'revokeFamily',
  'revokeUserFamilies',
  'endUserDevices',
  'addRevocation',
  'setUserEpoch',
])

/** WAIT after every revoking script: how many replicas must have it, and how long to wait for them. */
export interface RevocationConfirmation {
  replicas: number
  timeoutMs: number
}

/** A revocation that not enough replicas confirmed in time: it holds on the master, but may not survive it. */
export class UnconfirmedRevocationError extends Error {
  constructor(script: string, confirmed: number, wanted: number, timeoutMs: number) {
    super(
      `Redis confirmed ${script} on ${confirmed} of the ${wanted} replica(s) required within ${timeoutMs} ms.`,
    )
    this.name = 'UnconfirmedRevocationError'
  }
}

/** The clients the scripts are registered on: a store made of groups runs them under many prefixes. */
const registered = new WeakSet<Redis | Cluster>()

/**
 * Registers the scripts on `client` (as `sesame<Name>` commands; ioredis caches their SHA-1s) and returns the
 * function that runs them under `prefix`, confirming revocations on replicas as `confirm` asks.
 */
export function defineScripts(
  client: Redis | Cluster,
  prefix: string,
  confirm: RevocationConfirmation = { replicas: 0, timeoutMs: 0 },
): RunScript {
  if (!registered.has(client)) {
    for (const [name, script] of Object.entries(SCRIPTS)) {
      client.defineCommand(commandName(name), { numberOfKeys: script.keys, lua: PRELUDE + script.lua })
    }
    registered.add(client)
  }
  const commands = client as unknown as Record<string, (...args: Array<string | number>) => Promise<unknown>>
  async function runConfirmed(
    name: ScriptName,
    keys: readonly string[],
    args: ReadonlyArray<string | number>,
  ): Promise<unknown> {
    // One pipeline: WAIT goes on the connection (on a Cluster, to the node) that ran the script.
    const pipeline = client.pipeline()
    const custom = pipeline as unknown as Record<string, (...args: Array<string | number>) => unknown>
    custom[commandName(name)]!(...keys, prefix, ...args)
    pipeline.wait(confirm.replicas, confirm.timeoutMs)
    const [ran, waited] = (await pipeline.exec()) ?? []
    if (!ran || !waited) throw new Error('Redis discarded the pipeline.')
    const [scriptError, answer] = ran
    const [waitError, confirmed] = waited
    if (scriptError) throw scriptError
    if (waitError) throw waitError
    if (typeof confirmed !== 'number' || confirmed < confirm.replicas) {
      throw new UnconfirmedRevocationError(name, Number(confirmed), confirm.replicas, confirm.timeoutMs)
    }
    return answer
  }

  return (name, keys, args) => {
    if (keys.length !== SCRIPTS[name].keys)
      throw new Error(`Script ${name} takes ${SCRIPTS[name].keys} keys.`)
    if (confirm.replicas > 0 && CONFIRMED.has(name)) return runConfirmed(name, keys, args)
    return commands[commandName(name)]!(...keys, prefix, ...args)
  }
}

function commandName(name: string): string {
  return `sesame${name[0]!.toUpperCase()}${name.slice(1)}`
}
