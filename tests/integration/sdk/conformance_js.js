// Drive a node with the official JavaScript SDK (icon-sdk-js) and print what it saw, as JSON.
//
//   NODE_PATH=<sdk env>/node_modules node conformance_js.js URL PRIVATE_KEY_HEX TOKEN_ADDRESS
//
// URL is the JSON-RPC URL with its channel (.../api/v3/icon_dex). The test asserts on the
// output; this script only records, so an SDK surprise shows up as a readable difference.
'use strict';

const sdk = require('icon-sdk-js');

const {
  IconService, HttpProvider, BlockMonitorSpec, EventMonitorSpec, EventFilter, BigNumber,
  IcxTransactionBuilder, CallTransactionBuilder, CallBuilder, SignedTransaction,
} = sdk;
const { IconWallet } = IconService;
const TRANSFER = 'Transfer(Address,Address,int,bytes)';

async function failure(call) {
  try {
    await call();
  } catch (err) {
    // icon-sdk-js throws its RpcError as a string "[RPC ERROR] <message>"
    if (typeof err === 'string') {
      return { type: 'string', message: err };
    }
    return { type: (err && err.constructor && err.constructor.name) || typeof err,
             message: String(err && err.message !== undefined ? err.message : err) };
  }
  return null;
}

function collect(service, kind, spec, count, timeoutMs) {
  return new Promise((resolve, reject) => {
    const notes = [];
    const progress = [];
    let monitor;
    const timer = setTimeout(() => {
      monitor.close();
      resolve({ notes, progress, timedOut: true });
    }, timeoutMs);
    const ondata = (note) => {
      notes.push(JSON.parse(JSON.stringify(note)));
      if (notes.length >= count) {
        clearTimeout(timer);
        monitor.close();
        resolve({ notes, progress, timedOut: false });
      }
    };
    const onerror = (err) => {
      clearTimeout(timer);
      reject(new Error('monitor error: ' + String(err && err.message ? err.message : err)));
    };
    if (kind === 'block') {
      monitor = service.monitorBlock(spec, ondata, onerror);
    } else {
      monitor = service.monitorEvent(spec, ondata, onerror, (h) => progress.push(h.toString(10)));
    }
  });
}

async function main() {
  const [url, key, token] = process.argv.slice(2);
  const out = {};
  const service = new IconService(new HttpProvider(url));
  const wallet = IconWallet.loadPrivateKey(key);
  const me = wallet.getAddress();

  // reads
  const last = await service.getLastBlock().execute();
  out.last_height = last.height;
  out.signature = last.signature;
  out.by_height = (await service.getBlockByHeight(new BigNumber(last.height)).execute())
    .blockHash === last.blockHash;
  // the SDK's Block formatter already prefixes block_hash with 0x
  out.block_hash = last.blockHash;
  out.by_hash = (await service.getBlockByHash(last.blockHash).execute()).height === last.height;
  out.balance = (await service.getBalance(me).execute()).toString(10);
  out.total_supply = (await service.getTotalSupply().execute()).toString(10);
  out.network = await service.getNetworkInfo().execute();
  const api = await service.getScoreApi(token).execute();
  out.score_api = api.getList().map((entry) => entry.name).sort();
  out.score_status = (await service.getScoreStatus(token).execute()).current.status;
  out.token_balance = await service.call(
    new CallBuilder().to(token).method('balanceOf').params({ _owner: me }).build()).execute();

  // a signed transfer and its result
  const to = IconWallet.create().getAddress();
  const tx = new IcxTransactionBuilder()
    .from(me).to(to).value(new BigNumber('1000000000000000000')).stepLimit(new BigNumber(200000))
    .nid(new BigNumber(1)).nonce(new BigNumber(1)).version(new BigNumber(3))
    .timestamp(Date.now() * 1000).build();
  const txHash = await service.sendTransaction(new SignedTransaction(tx, wallet)).execute();
  const result = await service.waitTransactionResult(txHash).execute();
  out.transfer = {
    status: result.status,
    step_used: result.stepUsed.toString(10),
    to_balance: (await service.getBalance(to).execute()).toString(10),
    from: (await service.getTransaction(txHash).execute()).from,
    result_again: (await service.getTransactionResult(txHash).execute()).txHash === txHash,
  };

  // monitors: the token's Transfer events with their logs, and blocks from here on
  const start = new BigNumber((await service.getLastBlock().execute()).height);
  const events = collect(service, 'event',
    new EventMonitorSpec(start, new EventFilter(TRANSFER, token), true, 1), 1, 20000);
  const blocks = collect(service, 'block', new BlockMonitorSpec(start), 3, 20000);
  const callTx = new CallTransactionBuilder()
    .from(me).to(token).stepLimit(new BigNumber(1000000)).nid(new BigNumber(1))
    .version(new BigNumber(3)).timestamp(Date.now() * 1000)
    .method('transfer').params({ _to: to, _value: '0x5' }).build();
  const receipt = await service.sendTransactionAndWait(
    new SignedTransaction(callTx, wallet)).execute();
  out.token_transfer = { status: receipt.status, logs: receipt.eventLogs };
  const eventNotes = await events;
  out.event_notes = eventNotes.notes;
  out.progress = eventNotes.progress;
  const blockNotes = await blocks;
  out.block_notes = [];
  for (const note of blockNotes.notes) {
    const height = new BigNumber(note.height);
    const block = await service.getBlockByHeight(height).execute();
    out.block_notes.push({ height: '0x' + height.toString(16),
                           hash_matches: block.blockHash === note.hash });
  }

  // errors
  const forged = new SignedTransaction(tx, IconWallet.create());
  const base = url.slice(0, url.lastIndexOf('/'));
  out.errors = {
    bad_signature: await failure(() => service.sendTransaction(forged).execute()),
    future_block: await failure(
      () => service.getBlockByHeight(new BigNumber(1000000000)).execute()),
    no_score: await failure(() => service.call(
      new CallBuilder().to('cx' + '9'.repeat(40)).method('balanceOf').build()).execute()),
    debug_api: await failure(() => new IconService(new HttpProvider(base.replace('/api/v3', '/api/v3d')))
      .estimateStep(tx).execute()),
    other_channel: await failure(
      () => new IconService(new HttpProvider(base + '/no_such_channel')).getLastBlock().execute()),
  };

  // batches: the SDK has no batch call, so they go through the fetch it uses
  const batch = [
    { jsonrpc: '2.0', id: 1, method: 'icx_getLastBlock' },
    { jsonrpc: '2.0', id: 2, method: 'icx_getBalance', params: { address: me } },
    { jsonrpc: '2.0', id: 3, method: 'icx_nope' },
  ];
  let answer = await fetch(url, { method: 'POST', body: JSON.stringify(batch) });
  out.batch = { status: answer.status, body: await answer.json() };
  answer = await fetch(url, { method: 'POST', body: JSON.stringify(Array(11).fill(batch[0])) });
  out.batch_over_limit = { status: answer.status, body: await answer.json() };

  process.stdout.write(JSON.stringify(out) + '\n');
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write('conformance failed: ' + (err && err.stack ? err.stack : String(err)) + '\n');
  process.exit(1);
});
