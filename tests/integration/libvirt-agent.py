#!/usr/bin/python3
"""python3-libvirt under remote control, for the integration tests.

    libvirt-agent.py --uri URI [--readonly] [--event-loop] [--keepalive I,C]

Runs in a process of its own, without umockdev's preload, so that the stock
libvirt client library talks to hostdevd as on a real host.  It opens the
connection (libvirt.open, or openReadOnly with --readonly; with --event-loop
after virEventRegisterDefaultImpl and with a thread running
virEventRunDefaultImpl, which makes the client negotiate keepalive), then
answers one JSON request per stdin line with one JSON line on stdout:

  {"op": "call", "on": null, "method": M, "args": [...]}   conn.M(*args)
  {"op": "call", "on": NAME, "method": M, "args": [...]}   dev.M(*args), dev
        being the virNodeDevice of the first lookup of NAME (kept, so a
        test can use an object whose device has gone)
  {"op": "register", "event": ID, "device": NAME|null, "tag": T}
        conn.nodeDeviceEventRegisterAny -> callback id
  {"op": "deregister", "id": N}
  {"op": "close"}

Replies are {"reply": value} (node devices as their names) or {"error":
{"code", "domain", "message"}} for a libvirtError.  Events arrive as
{"event": "lifecycle"|"update", "tag", "device", "type", "detail"}, and
{"event": "closed", "reason": R} if the connection closes underneath.
The first line is the reply to the open.
"""
import argparse
import json
import sys
import threading

import libvirt

out_lock = threading.Lock()


def emit(msg):
    with out_lock:
        sys.stdout.write(json.dumps(msg) + "\n")
        sys.stdout.flush()


def error_of(e):
    return {"error": {"code": e.get_error_code(), "domain": e.get_error_domain(),
                      "message": e.get_error_message()}}


def plain(value):
    if isinstance(value, libvirt.virNodeDevice):
        return value.name()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def on_lifecycle(conn, dev, event, detail, tag):
    emit({"event": "lifecycle", "tag": tag, "device": dev.name(), "type": event, "detail": detail})


def on_update(conn, dev, tag):
    emit({"event": "update", "tag": tag, "device": dev.name()})


def on_close(conn, reason, opaque):
    emit({"event": "closed", "reason": reason})


def run_event_loop():
    while True:
        libvirt.virEventRunDefaultImpl()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uri", required=True)
    ap.add_argument("--readonly", action="store_true")
    ap.add_argument("--event-loop", action="store_true")
    ap.add_argument("--keepalive")
    args = ap.parse_args()

    # Errors are reported through the replies, not printed by libvirt.
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    if args.event_loop:
        libvirt.virEventRegisterDefaultImpl()
        threading.Thread(target=run_event_loop, daemon=True).start()
    try:
        conn = (libvirt.openReadOnly if args.readonly else libvirt.open)(args.uri)
        if args.event_loop:
            conn.registerCloseCallback(on_close, None)
        if args.keepalive:
            interval, count = (int(x) for x in args.keepalive.split(","))
            conn.setKeepAlive(interval, count)
    except libvirt.libvirtError as e:
        emit(error_of(e))
        return 1
    emit({"reply": "open"})

    devices = {}

    def device(name):
        if name not in devices:
            devices[name] = conn.nodeDeviceLookupByName(name)
        return devices[name]

    for line in sys.stdin:
        req = json.loads(line)
        op = req["op"]
        try:
            if op == "call":
                target = conn if req["on"] is None else device(req["on"])
                result = getattr(target, req["method"])(*req["args"])
                if req["on"] is None and req["method"] == "nodeDeviceLookupByName":
                    devices.setdefault(req["args"][0], result)
                emit({"reply": plain(result)})
            elif op == "register":
                dev = device(req["device"]) if req["device"] is not None else None
                cb = on_lifecycle if req["event"] == libvirt.VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE else on_update
                emit({"reply": conn.nodeDeviceEventRegisterAny(dev, req["event"], cb, req["tag"])})
            elif op == "deregister":
                emit({"reply": conn.nodeDeviceEventDeregisterAny(req["id"])})
            elif op == "close":
                emit({"reply": conn.close()})
                return 0
            else:
                emit({"error": {"code": -1, "domain": -1, "message": "unknown op " + op}})
        except libvirt.libvirtError as e:
            emit(error_of(e))
    return 0


if __name__ == "__main__":
    sys.exit(main())
