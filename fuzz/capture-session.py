#!/usr/bin/python3
"""Records what a real libvirt client sends: listens on RELAY_SOCKET, forwards
every connection to DAEMON_SOCKET (a running hostdevd or libvirtd) and back,
and writes each connection's client-to-server bytes, unchanged, to
OUTPUT_PREFIX-N.bin.  The files are seeds for fuzz/corpus/rpc/.

    capture-session.py RELAY_SOCKET DAEMON_SOCKET OUTPUT_PREFIX
    virsh -c 'nodedev:///system?socket=RELAY_SOCKET' nodedev-list --tree
"""
import os
import socket
import sys
import threading

relay_path, daemon_path, prefix = sys.argv[1:4]
counter = 0
lock = threading.Lock()


def pump(src, dst, record):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if record is not None:
                record.extend(data)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def handle(client):
    global counter
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    upstream.connect(daemon_path)
    recorded = bytearray()
    back = threading.Thread(target=pump, args=(upstream, client, None))
    back.start()
    pump(client, upstream, recorded)
    back.join()
    client.close()
    upstream.close()
    with lock:
        counter += 1
        path = '%s-%d.bin' % (prefix, counter)
    with open(path, 'wb') as f:
        f.write(recorded)
    print('%s: %d bytes' % (path, len(recorded)), flush=True)


if os.path.exists(relay_path):
    os.unlink(relay_path)
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(relay_path)
server.listen(16)
while True:
    conn, _ = server.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
