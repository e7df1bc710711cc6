// JSON-RPC awareness for the ICON edge proxy (njs, nginx's JavaScript module).
//
// `check` runs as the content handler of the JSON-RPC locations: it reads the body (nginx has
// already bounded its size), records the JSON-RPC method(s) for the access log, refuses
// batches larger than the configured limit, and hands the request to the internal location
// that proxies it to the node. Bodies that are not valid JSON are passed on untouched: the
// node answers them with its own JSON-RPC parse error, as clients expect.
//
// Written for njs 0.7 (Debian 12) and later: no optional chaining, no async.

var METHOD_RE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

function methodName(call) {
    if (call === null || typeof call !== 'object' || typeof call.method !== 'string') {
        return 'invalid';
    }
    return METHOD_RE.test(call.method) ? call.method : 'invalid';
}

function rpcError(r, status, code, message) {
    r.headersOut['Content-Type'] = 'application/json';
    r.return(status, JSON.stringify({
        jsonrpc: '2.0', error: {code: code, message: message}, id: null
    }));
}

function check(r) {
    var target = r.variables.icon_jsonrpc_target;
    if (r.method !== 'POST') {
        r.internalRedirect(target);
        return;
    }
    var body = r.requestText;
    var parsed;
    try {
        parsed = JSON.parse(body === undefined ? '' : body);
    } catch (e) {
        r.variables.jsonrpc_method = 'invalid';
        r.internalRedirect(target);
        return;
    }
    if (Array.isArray(parsed)) {
        var limit = parseInt(r.variables.icon_jsonrpc_max_batch, 10);
        r.variables.jsonrpc_batch = String(parsed.length);
        if (parsed.length > limit) {
            r.variables.jsonrpc_method = 'batch';
            rpcError(r, 413, -32600, 'batch of ' + parsed.length + ' calls exceeds the limit of '
                     + limit);
            return;
        }
        var names = [];
        for (var i = 0; i < parsed.length; i++) {
            names.push(methodName(parsed[i]));
        }
        r.variables.jsonrpc_method = 'batch';
        r.variables.jsonrpc_methods = names.join(',');
    } else {
        var name = methodName(parsed);
        r.variables.jsonrpc_method = name;
        r.variables.jsonrpc_methods = name;
        r.variables.jsonrpc_batch = '0';
    }
    r.internalRedirect(target);
}

export default {check: check, methodName: methodName};
