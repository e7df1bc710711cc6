"""HTTP plumbing shared by the agent, the simulator, the status page and the probes.

``server``: the small asyncio HTTP/1.1 server; ``websocket``: its server-side WebSocket;
``client``: bounded, redirect-free requests to peers iconctl does not control.
"""
