#!/usr/bin/python3
"""Fabric 2's side of BenchmarkVersusFabric2: run one command on every host
at once with a ThreadingGroup, as a Fabric 2 user would, and print each
host's output. Debian's `fabric` package (2.6) provides the library.

    /usr/bin/python3 bench/fabric2/fanout.py --user U --key KEY --port P HOST... -- uname -r

Host keys: paramiko cannot read known_hosts wildcard patterns such as the
testbed's "[127.*]:2222", so this script accepts the loopback testbed's key
without checking it (gofab checks it); it refuses any non-loopback host.
"""
import argparse
import ipaddress
import sys

from fabric import Config, ThreadingGroup
import paramiko


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--user", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--port", type=int, default=22)
    ap.add_argument("hosts", nargs="+")
    args, _, cmd = " ".join(sys.argv[1:]).partition(" -- ")
    opts = ap.parse_args(args.split())
    for h in opts.hosts:
        if not ipaddress.ip_address(h).is_loopback:
            sys.exit("fanout.py: %s is not a loopback address" % h)
    config = Config(overrides={"load_ssh_configs": False})
    group = ThreadingGroup(*opts.hosts, user=opts.user, port=opts.port, config=config,
                           connect_kwargs={"key_filename": opts.key, "look_for_keys": False, "allow_agent": False,
                                           "banner_timeout": 60})
    for c in group:
        c.client.set_missing_host_key_policy(paramiko.WarningPolicy())
    results = group.run(cmd, hide=True, warn=True)
    failed = 0
    for conn, r in results.items():
        if isinstance(r, Exception) or r.exited != 0:
            failed += 1
            print("%s: %s" % (conn.host, r), file=sys.stderr)
        else:
            print("%s: %s" % (conn.host, r.stdout.strip()))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
