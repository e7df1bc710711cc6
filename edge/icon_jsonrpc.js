// JSON-RPC awareness for the ICON edge proxy (njs, nginx's JavaScript module).
//
// `method`, `methods` and `batch` back the js_set variables of the access log. nginx evaluates
// them when it writes the log line, after the answer has gone out, from the body it already
// holds in memory (it has bounded its size): reading the JSON-RPC method costs the request no
// latency. The body is parsed once per request and the three values come from that parse.
//
// `check` is the content handler of the JSON-RPC locations only when the edge enforces a batch
// limit of its own (icon_edge_max_batch > 0): it refuses larger batches with 413 and hands
// everything else to the internal location that proxies it to the node. Bodies that are not
// valid JSON are passed on untouched: the node answers them with its own JSON-RPC parse
// error, as clients expect.
//
// `refuse` is the content handler of the error pages: every refusal of the edge (404, 405,
// 429, and the node being down or slow: 502, 504) becomes a JSON-RPC error object with the
// request's id when the body nginx holds is one JSON-RPC call, null otherwise, so both
// official SDKs raise their own error types instead of failing on a non-JSON-RPC body.
//
// `cached` is the content handler of the JSON-RPC locations when the immutable-read cache is
// on (icon_edge_cache_size > 0). A single call whose answer can never change (CACHE_ALWAYS,
// or CACHE_AT_HEIGHT with an explicit height) is re-written with id 0 and asked through the
// caching location /_icon_cache, keyed by its method and canonical parameters; the answer's
// id is put back to the caller's, written as goloop writes it, so a hit carries the same
// bytes the node would have sent. Only 200 answers are stored: errors (a block not made yet,
// a transaction still pending or executing) are never cached. A batch whose every member is
// cacheable (and no longer than the node's batch limit) is answered member by member the same
// way (cachedBatch). Everything else takes the usual path to the node.
//
// Written for njs 0.7 (Debian 12) and later: no optional chaining, no async.

var METHOD_RE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
// The access log lists at most this many methods of a batch (`batch` has the real count).
var MAX_LOGGED_METHODS = 100;

function methodName(call) {
    if (call === null || typeof call !== 'object' || typeof call.method !== 'string') {
        return 'invalid';
    }
    return METHOD_RE.test(call.method) ? call.method : 'invalid';
}

function parseBody(r) {
    var body;
    try {
        body = r.requestText;
    } catch (e) {
        return undefined;  // no body nginx could hand over (e.g. refused before reading it)
    }
    if (body === undefined || body === null || body === '') {
        return undefined;
    }
    try {
        return {value: JSON.parse(body)};
    } catch (e) {
        return {invalid: true};
    }
}

// One request's summary, shared by the three js_set calls of its log line (keyed by the
// request id, in case a VM ever outlives a request).
var summaryCache = null;

function summary(r) {
    var id = r.variables.request_id;
    if (summaryCache !== null && summaryCache.id === id) {
        return summaryCache;
    }
    var s = {id: id, method: '', methods: '', batch: '0'};
    if (r.method === 'POST') {
        var parsed = parseBody(r);
        if (parsed !== undefined && parsed.invalid) {
            s.method = 'invalid';
        } else if (parsed !== undefined && Array.isArray(parsed.value)) {
            var calls = parsed.value;
            var names = [];
            for (var i = 0; i < calls.length && i < MAX_LOGGED_METHODS; i++) {
                names.push(methodName(calls[i]));
            }
            s.method = 'batch';
            s.methods = names.join(',');
            s.batch = String(calls.length);
        } else if (parsed !== undefined) {
            s.method = methodName(parsed.value);
            s.methods = s.method;
        }
    }
    summaryCache = s;
    return s;
}

function method(r) {
    return summary(r).method;
}

function methods(r) {
    return summary(r).methods;
}

function batch(r) {
    return summary(r).batch;
}

function rpcError(r, status, code, message, id) {
    r.headersOut['Content-Type'] = 'application/json';
    r.return(status, JSON.stringify({
        jsonrpc: '2.0', error: {code: code, message: message}, id: id === undefined ? null : id
    }) + '\n');
}

// The id of a single JSON-RPC call, if it is one goloop would echo (a string or a number).
function requestId(r) {
    if (r.method !== 'POST') {
        return null;
    }
    var parsed = parseBody(r);
    if (parsed === undefined || parsed.invalid || parsed.value === null
        || typeof parsed.value !== 'object' || Array.isArray(parsed.value)) {
        return null;
    }
    var id = parsed.value.id;
    if (typeof id === 'string' && id.length <= 256) {
        return id;
    }
    return typeof id === 'number' ? id : null;
}

// status -> [JSON-RPC code, message] (goloop's "<Name>: <detail>" shape)
var REFUSALS = {
    '404': [-32601, 'MethodNotFound: no JSON-RPC endpoint at this path'],
    '405': [-32600, 'InvalidRequest: use POST for JSON-RPC'],
    '429': [-32000, 'ServerError: rate limit exceeded'],
    '502': [-32000, 'ServerError: the node is unavailable'],
    '504': [-32000, 'ServerError: the node did not answer in time']
};

function refuse(r) {
    var status = r.variables.icon_refusal;
    var known = REFUSALS[status] || [-32000, 'ServerError: refused'];
    var message = known[1];
    if (status === '404' && r.uri.indexOf('/api/v3d') === 0) {
        message = 'MethodNotFound: debug API is disabled';
    }
    if (status === '405') {
        r.headersOut['Allow'] = 'POST';
    }
    rpcError(r, parseInt(status, 10) || 500, known[0], message, requestId(r));
}

// True when the edge refused the request (a batch above the edge's own limit).
function refusedBatch(r, parsed) {
    var limit = parseInt(r.variables.icon_jsonrpc_max_batch, 10);
    if (limit > 0 && parsed !== undefined && Array.isArray(parsed.value)
        && parsed.value.length > limit) {
        rpcError(r, 413, -32600, 'InvalidRequest: batch of ' + parsed.value.length
                 + ' calls exceeds the limit of ' + limit, null);
        return true;
    }
    return false;
}

function check(r) {
    if (r.method === 'POST' && refusedBatch(r, parseBody(r))) {
        return;
    }
    r.internalRedirect(r.variables.icon_jsonrpc_target);
}

// Answers that never change once the node gives them (ICON's blocks are final at once).
var CACHE_ALWAYS = {
    icx_getBlockByHeight: true,
    icx_getBlockByHash: true,
    icx_getTransactionResult: true,
    icx_getTransactionByHash: true
};
// Reads of state, immutable only at an explicit height.
var CACHE_AT_HEIGHT = {
    icx_call: true,
    icx_getBalance: true,
    icx_getScoreApi: true,
    icx_getScoreStatus: true,
    icx_getTotalSupply: true
};
var MAX_KEY_DEPTH = 32;

function cacheable(call) {
    if (call === null || typeof call !== 'object' || Array.isArray(call)
        || call.jsonrpc !== '2.0' || typeof call.method !== 'string') {
        return false;
    }
    if (typeof call.id !== 'number' && typeof call.id !== 'string') {
        return false;  // notifications and odd ids take the node's own path
    }
    var params = call.params;
    if (params === null || typeof params !== 'object' || Array.isArray(params)) {
        return false;
    }
    if (CACHE_ALWAYS[call.method] === true) {
        return true;
    }
    return CACHE_AT_HEIGHT[call.method] === true && typeof params.height === 'string';
}

// JSON with sorted object keys: equal parameters give equal keys whatever their order.
function canonical(value, depth) {
    if (depth > MAX_KEY_DEPTH) {
        throw new Error('too deep');
    }
    if (value === null || typeof value !== 'object') {
        return JSON.stringify(value);
    }
    if (Array.isArray(value)) {
        return '[' + value.map(function (v) { return canonical(v, depth + 1); }).join(',') + ']';
    }
    return '{' + Object.keys(value).sort().map(function (k) {
        return JSON.stringify(k) + ':' + canonical(value[k], depth + 1);
    }).join(',') + '}';
}

// An id as goloop (Go's encoding/json) writes it: HTML-sensitive characters escaped.
function goJSON(value) {
    return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, function (c) {
        return '\\u' + ('0000' + c.charCodeAt(0).toString(16)).slice(-4);
    });
}

var ID_ZERO = ',"id":0}';

// The cache's answer to one call, re-written to the caller's id as goloop writes it; null when
// the reply is no JSON-RPC answer with id 0 (the node or the cache failed).
function withId(reply, id) {
    var text = reply.responseText;
    var at = typeof text === 'string' ? text.lastIndexOf(ID_ZERO) : -1;
    if (at < 0) {
        return null;
    }
    return text.slice(0, at) + ',"id":' + goJSON(id) + '}' + text.slice(at + ID_ZERO.length);
}

function cacheKey(call) {
    return require('crypto').createHash('sha256')
        .update(call.method + ' ' + canonical(call.params, 0)).digest('hex');
}

function askCache(r, call, key, done) {
    var body = JSON.stringify({jsonrpc: '2.0', method: call.method, params: call.params, id: 0});
    r.subrequest('/_icon_cache', {method: 'POST', body: body, args: 'key=' + key}, done);
}

function cacheStatus(reply) {
    try {
        return reply.variables.upstream_cache_status || '';
    } catch (e) {
        return '';
    }
}

// A batch whose every member is cacheable: each member is asked through the cache on its own
// and the answers are joined the way goloop joins a batch's (`[a,b,...]` and a newline), so a
// batch of hits carries the bytes the node would have sent. Batches above the node's own
// limit are left to the node, which refuses them as a whole.
function cachedBatch(r, calls, keys) {
    var answers = new Array(calls.length);
    var statuses = new Array(calls.length);
    var pending = calls.length;
    var failed = false;
    var type = null;
    calls.forEach(function (call, i) {
        askCache(r, call, keys[i], function (reply) {
            statuses[i] = cacheStatus(reply);
            var text = withId(reply, call.id);
            if (text === null || reply.status >= 500) {
                failed = true;
            } else {
                answers[i] = text.replace(/\n$/, '');
                type = type || reply.headersOut['Content-Type'];
            }
            pending -= 1;
            if (pending > 0) {
                return;
            }
            var allHits = statuses.every(function (s) { return s === 'HIT'; });
            r.variables.icon_cache = allHits ? 'HIT' : 'MISS';
            if (failed) {
                rpcError(r, 502, -32000, 'ServerError: the node is unavailable', null);
                return;
            }
            r.headersOut['Content-Type'] = type ? type : 'application/json';
            r.return(200, '[' + answers.join(',') + ']\n');
        });
    });
}

function batchKeys(r, calls) {
    var limit = parseInt(r.variables.icon_jsonrpc_cache_batch, 10);
    if (!(limit > 0) || calls.length === 0 || calls.length > limit
        || !calls.every(cacheable)) {
        return null;
    }
    try {
        return calls.map(cacheKey);
    } catch (e) {
        return null;
    }
}

function cached(r) {
    var parsed = r.method === 'POST' ? parseBody(r) : undefined;
    if (refusedBatch(r, parsed)) {
        return;
    }
    if (parsed !== undefined && !parsed.invalid && Array.isArray(parsed.value)) {
        var keys = batchKeys(r, parsed.value);
        if (keys === null) {
            r.internalRedirect(r.variables.icon_jsonrpc_target);
            return;
        }
        cachedBatch(r, parsed.value, keys);
        return;
    }
    if (parsed === undefined || parsed.invalid || !cacheable(parsed.value)) {
        r.internalRedirect(r.variables.icon_jsonrpc_target);
        return;
    }
    var call = parsed.value;
    var key;
    try {
        key = cacheKey(call);
    } catch (e) {
        r.internalRedirect(r.variables.icon_jsonrpc_target);
        return;
    }
    askCache(r, call, key, function (reply) {
        r.variables.icon_cache = cacheStatus(reply);
        var text = withId(reply, call.id);
        if (reply.status >= 500 && text === null) {
            rpcError(r, 502, -32000, 'ServerError: the node is unavailable', call.id);
            return;
        }
        var type = reply.headersOut['Content-Type'];
        r.headersOut['Content-Type'] = type ? type : 'application/json';
        r.return(reply.status, text === null ? reply.responseText : text);
    });
}

export default {check: check, method: method, methods: methods, batch: batch,
                methodName: methodName, refuse: refuse, cached: cached,
                cacheable: cacheable};
