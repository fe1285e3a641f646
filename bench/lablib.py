"""lablib - the cluster lab: real nodes on a private subnet in network namespaces.

A lab named NAME is made of
  * one observer namespace  slab-NAME-obs : holds the bridge br0 that joins every
    host, and the address .254 from which tools query the nodes' APIs;
  * host namespaces         slab-NAME-hI  : eth0 with address SUBNET.I, a fixed MAC,
    permanent neighbour entries for every other host (so that dozens of hosts do
    not overflow the kernel's shared neighbour table), and an nftables table
    `inet lab` whose input chain drops what partitions and loss say;
  * one agent process per host: shoald (or, for comparison, HashiCorp serf).

Faults are applied on input only (an output drop makes send() fail with EPERM,
which no real partition does) and never to the observer's own traffic. Every
namespace and process made is written to a state file under /run/shoal-lab/NAME
so that `down` (or a later run) removes exactly those, and only processes
started here are ever signalled, by pid, after checking their command line.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import time

STATE_ROOT = "/run/shoal-lab"
OBSERVER = 254
MAX_HOSTS = 200
SHOAL_CLUSTER_PORT = 49010
SHOAL_API_PORT = 3000
SERF_PORT = 7946
SERF_RPC_PORT = 7373


class LabError(Exception):
    pass


def sh(*args, check=True, input=None):
    """Runs a command; raises LabError with its stderr on failure."""
    p = subprocess.run(list(args), input=input, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise LabError("%s: %s" % (" ".join(args), p.stderr.strip() or p.stdout.strip()))
    return p


def repo_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_shoald():
    return os.environ.get("SHOALD") or os.path.join(repo_root(), "build", "node", "shoald")


def default_shoalctl():
    return os.environ.get("SHOALCTL") or os.path.join(repo_root(), "build", "node", "shoalctl")


def mac_of(index):
    return "02:5a:00:00:%02x:%02x" % (index >> 8, index & 0xFF)


def pid_is(pid, needle):
    """True if pid is alive and its command line contains needle (pid reuse guard)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return needle.encode() in f.read()
    except OSError:
        return False


class Lab:
    """One lab. Create with Lab(name, ...), then up(); or Lab.load(name)."""

    def __init__(self, name="lab", subnet="10.77.0", agent="shoal", shoald=None,
                 cluster_name="lab", contacts=3):
        self.name = name
        self.subnet = subnet
        self.agent = agent
        self.shoald = shoald or default_shoald()
        self.cluster_name = cluster_name
        self.ncontacts = contacts
        self.dir = os.path.join(STATE_ROOT, name)
        self.hosts = {}      # index -> {"pid": int|None, "temporary": bool, "cluster": str}
        self.loss = {}       # index -> percent

    # ---- state -------------------------------------------------------------
    @property
    def obs_ns(self):
        return "slab-%s-obs" % self.name

    def ns(self, i):
        return "slab-%s-h%d" % (self.name, i)

    def ip(self, i):
        return "%s.%d" % (self.subnet, i)

    def host_dir(self, i):
        return os.path.join(self.dir, "h%d" % i)

    def save(self):
        state = {"name": self.name, "subnet": self.subnet, "agent": self.agent,
                 "shoald": self.shoald, "cluster_name": self.cluster_name,
                 "contacts": self.ncontacts, "loss": self.loss,
                 "hosts": {str(k): v for k, v in self.hosts.items()}}
        tmp = os.path.join(self.dir, "state.json.tmp")
        with open(tmp, "w") as f:
            json.dump(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.dir, "state.json"))

    @classmethod
    def load(cls, name):
        path = os.path.join(STATE_ROOT, name, "state.json")
        try:
            with open(path) as f:
                st = json.load(f)
        except OSError:
            raise LabError("no lab named '%s' is up (no %s)" % (name, path))
        lab = cls(st["name"], st["subnet"], st["agent"], st["shoald"], st["cluster_name"],
                  st["contacts"])
        lab.hosts = {int(k): v for k, v in st["hosts"].items()}
        lab.loss = {int(k): v for k, v in st.get("loss", {}).items()}
        return lab

    @staticmethod
    def exists(name):
        return os.path.exists(os.path.join(STATE_ROOT, name))

    # ---- network -----------------------------------------------------------
    def _make_observer(self):
        sh("ip", "netns", "add", self.obs_ns)
        batch = "\n".join([
            "link set lo up",
            "link add br0 type bridge",
            "link set br0 address %s" % mac_of(OBSERVER),
            "addr add %s/24 dev br0" % self.ip(OBSERVER),
            "link set br0 up",
        ]) + "\n"
        sh("ip", "-n", self.obs_ns, "-batch", "-", input=batch)

    def _make_host(self, i):
        ns = self.ns(i)
        sh("ip", "netns", "add", ns)
        # Both ends are made in the observer namespace, then eth0 moves out.
        sh("ip", "-n", self.obs_ns, "link", "add", "v%d" % i, "type", "veth", "peer", "name",
           "e%d" % i)
        sh("ip", "-n", self.obs_ns, "link", "set", "e%d" % i, "netns", ns)
        sh("ip", "-n", self.obs_ns, "-batch", "-", input="link set v%d master br0\n"
           "link set v%d up\n" % (i, i))
        sh("ip", "-n", ns, "-batch", "-", input="\n".join([
            "link set lo up",
            "link set e%d name eth0" % i,
            "link set eth0 address %s" % mac_of(i),
            "addr add %s/24 dev eth0" % self.ip(i),
            "link set eth0 up",
        ]) + "\n")
        sh("ip", "netns", "exec", ns, "nft", "-f", "-", input="""
table inet lab {
  set cut { type ipv4_addr; }
  chain input {
    type filter hook input priority -10; policy accept;
    ip saddr %s accept comment "the observer is never cut"
    ip saddr @cut drop
  }
  chain output {
    type filter hook output priority 0; policy accept;
    ip daddr != %s counter comment "cluster traffic"
  }
}
""" % (self.ip(OBSERVER), self.ip(OBSERVER)))

    def _neighbours(self, indices):
        """Permanent ARP entries everywhere: no neighbour-table churn or overflow."""
        everyone = sorted(indices) + [OBSERVER]
        for i in everyone:
            ns = self.obs_ns if i == OBSERVER else self.ns(i)
            dev = "br0" if i == OBSERVER else "eth0"
            lines = ["neigh replace %s lladdr %s dev %s nud permanent" % (self.ip(j), mac_of(j), dev)
                     for j in everyone if j != i]
            sh("ip", "-n", ns, "-batch", "-", input="\n".join(lines) + "\n")

    # ---- agents ------------------------------------------------------------
    def node_name_of(self, i):
        """Node name of host i ("node<i>@ip" unless renamed)."""
        return "%s@%s" % (self.hosts[i].get("name") or "node%d" % i, self.ip(i))

    def contacts(self):
        first = sorted(self.hosts)[: self.ncontacts]
        return ["node%d@%s" % (i, self.ip(i)) for i in first]

    def write_conf(self, i):
        d = self.host_dir(i)
        os.makedirs(d, exist_ok=True)
        h = self.hosts[i]
        lines = [
            "cluster_name = %s" % h.get("cluster", self.cluster_name),
            "node_name = %s" % self.node_name_of(i),
            "node_type = %s" % ("temporary" if h.get("temporary") else "regular"),
            "contact_node_name_list = %s" % ", ".join(h.get("contact_list") or self.contacts()),
            "data_dir = %s/data" % d,
            "log_dir = %s" % (h.get("log_dir") or d + "/log"),
        ] + list(h.get("extra", []))
        with open(os.path.join(d, "shoal.conf"), "w") as f:
            f.write("\n".join(lines) + "\n")

    def _command(self, i):
        d = self.host_dir(i)
        if self.agent == "serf":
            cmd = [shutil.which("serf") or "serf", "agent", "-node=node%d" % i,
                   "-bind=%s:%d" % (self.ip(i), SERF_PORT),
                   "-rpc-addr=%s:%d" % (self.ip(i), SERF_RPC_PORT), "-log-level=info",
                   "-retry-interval=1s"]
            cmd += ["-retry-join=%s:%d" % (c.split("@")[1], SERF_PORT)
                    for c in self.contacts() if c != "node%d@%s" % (i, self.ip(i))]
            return cmd, "serf"
        return [self.shoald, "-c", os.path.join(d, "shoal.conf")], "shoald"

    def start(self, i):
        h = self.hosts[i]
        if h.get("pid") and pid_is(h["pid"], self._command(i)[1]):
            raise LabError("host %d is already running (pid %d)" % (i, h["pid"]))
        if self.agent == "shoal":
            self.write_conf(i)
        cmd, _ = self._command(i)
        os.makedirs(self.host_dir(i), exist_ok=True)
        out = open(os.path.join(self.host_dir(i), "agent.log"), "ab")
        # ip netns exec execs the agent: the pid is the agent's own. A new
        # session keeps it running after this tool exits.
        p = subprocess.Popen(["ip", "netns", "exec", self.ns(i)] + cmd, stdout=out, stderr=out,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        h["pid"] = p.pid
        self.save()
        return p.pid

    def signal(self, i, sig):
        h = self.hosts.get(i)
        if h is None:
            raise LabError("no host %d" % i)
        pid = h.get("pid")
        if not pid or not pid_is(pid, self._command(i)[1]):
            return False
        os.kill(pid, sig)
        return True

    def wait_exit(self, i, timeout=10.0):
        pid = self.hosts[i].get("pid")
        deadline = time.monotonic() + timeout
        while pid and pid_is(pid, self._command(i)[1]):
            if time.monotonic() > deadline:
                return False
            try:  # reap if it is our child
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.02)
        return True

    def kill(self, i):
        self.signal(i, signal.SIGKILL)
        self.wait_exit(i, 5)
        self.hosts[i]["pid"] = None
        self.save()

    def stop(self, i, timeout=10.0):
        """SIGTERM: graceful leave. Returns True if it exited in time."""
        self.signal(i, signal.SIGTERM)
        ok = self.wait_exit(i, timeout)
        if not ok:
            self.signal(i, signal.SIGKILL)
            self.wait_exit(i, 5)
        self.hosts[i]["pid"] = None
        self.save()
        return ok

    def pause(self, i, seconds):
        self.signal(i, signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            self.signal(i, signal.SIGCONT)

    def wipe(self, i):
        shutil.rmtree(os.path.join(self.host_dir(i), "data"), ignore_errors=True)

    # ---- faults ------------------------------------------------------------
    def _nft(self, i, script):
        sh("ip", "netns", "exec", self.ns(i), "nft", "-f", "-", input=script)

    def _set_cut(self, i, sources):
        script = "flush set inet lab cut\n"
        if sources:
            script += "add element inet lab cut { %s }\n" % ", ".join(self.ip(s) for s in sorted(sources))
        self._nft(i, script)

    def partition(self, spec):
        """spec "1,2,3|4,5": hosts in different groups cannot reach each other.
        Hosts not named form one more group."""
        groups = [set(int(x) for x in g.split(",") if x.strip()) for g in spec.split("|")]
        named = set().union(*groups)
        rest = set(self.hosts) - named
        if rest:
            groups.append(rest)
        for g in groups:
            for i in g:
                if i in self.hosts:
                    self._set_cut(i, set(self.hosts) - g)

    def oneway(self, a, b):
        """a's packets to b are dropped (at b's input); b's to a still arrive."""
        self._nft(b, "add element inet lab cut { %s }\n" % self.ip(a))

    def heal(self):
        for i in self.hosts:
            self._set_cut(i, set())

    def set_loss(self, percent, hosts=None):
        """Drops percent% of what each host receives from other hosts."""
        for i in (hosts or list(self.hosts)):
            script = "flush chain inet lab input\n"
            script += "add rule inet lab input ip saddr %s accept\n" % self.ip(OBSERVER)
            script += "add rule inet lab input ip saddr @cut drop\n"
            if percent > 0:
                script += ("add rule inet lab input numgen random mod 10000 < %d drop\n"
                           % int(round(percent * 100)))
            self._nft(i, script)
            self.loss[i] = percent
        self.save()

    def sent_bytes(self, i):
        """Bytes this host sent to other hosts (IP level), from its nft counter."""
        out = sh("ip", "netns", "exec", self.ns(i), "nft", "-j", "list", "chain", "inet", "lab",
                 "output").stdout
        for item in json.loads(out)["nftables"]:
            rule = item.get("rule")
            if rule:
                for e in rule["expr"]:
                    if "counter" in e:
                        return e["counter"]["bytes"]
        return 0

    # ---- lifecycle ---------------------------------------------------------
    def up(self, n, temporary=0, start=True, extra=0):
        """Makes n regular (+ temporary) hosts and starts them; `extra` more
        hosts are made but not started (for join measurements)."""
        if n < 1 or n + temporary + extra > MAX_HOSTS:
            raise LabError("between 1 and %d hosts" % MAX_HOSTS)
        if os.geteuid() != 0:
            raise LabError("the lab needs root (network namespaces, nftables)")
        os.makedirs(STATE_ROOT, exist_ok=True)
        try:
            os.mkdir(self.dir)  # the lock: a second `up` of the same lab fails here
        except FileExistsError:
            raise LabError("lab '%s' is already up (%s); run `down` first" % (self.name, self.dir))
        try:  # from here on, whatever goes wrong (or ^C) removes what was made
            total = n + temporary + extra
            for i in range(1, total + 1):
                self.hosts[i] = {"pid": None, "temporary": n < i <= n + temporary}
            self.save()
            self._make_observer()
            for i in range(1, total + 1):
                self._make_host(i)
            self._neighbours(self.hosts.keys())
            if start:
                for i in range(1, n + temporary + 1):
                    self.start(i)
        except BaseException:
            self.down()
            raise

    def down(self):
        for i in list(self.hosts):
            try:
                self.signal(i, signal.SIGKILL)
                self.wait_exit(i, 5)
            except LabError:
                pass
        for i in list(self.hosts):
            sh("ip", "netns", "del", self.ns(i), check=False)
        sh("ip", "netns", "del", self.obs_ns, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- observation (must run inside the observer namespace) ---------------
    def in_observer(self):
        """True if this process can reach the hosts directly."""
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind((self.ip(OBSERVER), 0))
            return True
        except OSError:
            return False


def in_observer_exec(lab, argv, env_flag="SHOAL_LAB_OBSERVER"):
    """Re-executes argv inside the lab's observer namespace (once)."""
    if os.environ.get(env_flag) == lab.name:
        return
    env = dict(os.environ)
    env[env_flag] = lab.name
    os.execvpe("ip", ["ip", "netns", "exec", lab.obs_ns] + argv, env)


class ShoalClient:
    """Keep-alive HTTP client of one node's API (from the observer)."""

    def __init__(self, ip, port=SHOAL_API_PORT, timeout=1.0):
        self.ip, self.port, self.timeout = ip, port, timeout
        self.conn = None

    def _request(self, method, path, body=None, headers=None):
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.ip, self.port, timeout=self.timeout)
                self.conn.request(method, path, body=body, headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                return r.status, data
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt == 1:
                    return None, b""
        return None, b""

    def action(self, target, body=None):
        status, data = self._request("POST", "/", json.dumps(body or {}),
                                     {"x-shoal-target": target, "content-type": "application/json"})
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, None

    def ok(self):
        status, data = self._request("GET", "/.ok")
        return status, data.decode(errors="replace")

    def ok_code(self):
        """"200", "503 CLUSTER-NOT-MAJORITY" (status and error code), or "down"."""
        status, body = self.ok()
        if status is None:
            return "down"
        if status == 200:
            return "200"
        try:
            return "%d %s" % (status, json.loads(body).get("error", ""))
        except ValueError:
            return str(status)

    def status(self):
        s, doc = self.action("GetClusterStatus")
        return doc if s == 200 else None

    def members(self):
        """{name: state} or None if the node does not answer."""
        status, doc = self.action("ListClusterNodes")
        if status != 200 or not isinstance(doc, list):
            return None
        return {m["node_name"]: m["state"] for m in doc}

    def close(self):
        if self.conn is not None:
            self.conn.close()


class SerfClient:
    """Serf's msgpack RPC (handshake, members), for comparison runs."""

    def __init__(self, ip, port=SERF_RPC_PORT, timeout=1.0):
        self.ip, self.port, self.timeout = ip, port, timeout
        self.sock = None
        self.seq = 0
        self.unpacker = None

    def _connect(self):
        import msgpack
        self.sock = socket.create_connection((self.ip, self.port), timeout=self.timeout)
        self.unpacker = msgpack.Unpacker(raw=False)
        self._send({"Command": "handshake", "Seq": self._next()}, {"Version": 1})
        self._read()

    def _next(self):
        self.seq += 1
        return self.seq

    def _send(self, header, body=None):
        import msgpack
        data = msgpack.packb(header)
        if body is not None:
            data += msgpack.packb(body)
        self.sock.sendall(data)

    def _read(self):
        while True:
            for obj in self.unpacker:
                return obj
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("serf closed the RPC connection")
            self.unpacker.feed(chunk)

    def members(self):
        for attempt in range(2):
            try:
                if self.sock is None:
                    self._connect()
                self._send({"Command": "members", "Seq": self._next()})
                header = self._read()
                if header.get("Error"):
                    return None
                body = self._read()
                return {m["Name"]: {"failed": "dead"}.get(m["Status"], m["Status"])
                        for m in body["Members"]}
            except (OSError, ValueError, KeyError):
                if self.sock is not None:
                    self.sock.close()
                self.sock = None
        return None

    def close(self):
        if self.sock is not None:
            self.sock.close()


_CLONE_NEWNET = 0x40000000
_home_ns = None


def _setns(path):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, _CLONE_NEWNET) != 0:
            raise LabError("setns %s: %s" % (path, os.strerror(ctypes.get_errno())))
    finally:
        os.close(fd)


def enter_observer(lab):
    """Moves this (single-threaded) process into the lab's observer namespace,
    so that it reaches every host directly. leave_observer() goes back."""
    global _home_ns
    if _home_ns is None:
        _home_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
    _setns("/run/netns/" + lab.obs_ns)


def leave_observer():
    if _home_ns is not None:
        _setns("/proc/self/fd/%d" % _home_ns)


def client_for(lab, i):
    if lab.agent == "serf":
        return SerfClient(lab.ip(i))
    return ShoalClient(lab.ip(i))


def node_name(lab, i):
    return "node%d" % i if lab.agent == "serf" else lab.node_name_of(i)
