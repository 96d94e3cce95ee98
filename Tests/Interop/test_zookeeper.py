"""Ferry's ZooKeeper tooling against the real ensemble, cross-checked with kazoo (what Kafka tooling uses)."""
import re

from conftest import ROOT, run

SHELL = ROOT / "scripts" / "zookeeper-shell.sh"


def shell(zk_connect, *command, stdin=None, check=True):
    return run("bash", SHELL, zk_connect, *command, stdin=stdin, check=check)


def test_ensemble_status_shows_one_leader_and_two_followers(zk_conf_dir):
    out = run("bash", ROOT / "scripts" / "zk-ensemble.sh", "--conf-dir", zk_conf_dir, "status").stdout
    lines = out.strip().splitlines()
    assert len(lines) == 3, out
    modes = sorted(line.split()[-1] for line in lines)
    assert modes == ["follower", "follower", "leader"], out
    for line in lines:
        assert re.match(r"^zk[123]  127\.0\.0\.1:1218[123]  pid \d+  (leader|follower)$", line), line


def test_shell_reads_what_kazoo_writes(kazoo, scratch, zk_connect):
    kazoo.create(f"{scratch}/from-kazoo", b'{"version":1,"brokerid":3}')
    kazoo.create(f"{scratch}/b")
    out = shell(zk_connect, "get", f"{scratch}/from-kazoo").stdout.splitlines()
    assert out == ["Connecting to " + zk_connect, '{"version":1,"brokerid":3}']
    out = shell(zk_connect, "ls", scratch).stdout.splitlines()
    assert out[-1] == "[b, from-kazoo]"
    stat = shell(zk_connect, "stat", f"{scratch}/from-kazoo").stdout
    assert "dataVersion = 0" in stat and "dataLength = 26" in stat and "ephemeralOwner = 0x0" in stat


def test_kazoo_reads_what_the_shell_writes_under_a_chroot(kazoo, scratch, zk_connect):
    chrooted = zk_connect + scratch
    shell(chrooted, "create", "/topic", '{"partitions":{"0":[1,2]}}')
    out = shell(chrooted, "create", "-s", "/topic/seq-", "x").stdout
    assert out.splitlines()[-1] == "Created /topic/seq-0000000000"
    shell(chrooted, "set", "/topic", '{"partitions":{"0":[2,1]}}')
    data, stat = kazoo.get(f"{scratch}/topic")
    assert data == b'{"partitions":{"0":[2,1]}}'
    assert stat.version == 1
    assert kazoo.get_children(f"{scratch}/topic") == ["seq-0000000000"]


def test_shell_reports_zookeeper_errors_and_exits_non_zero(kazoo, scratch, zk_connect):
    kazoo.create(f"{scratch}/cas", b"v0")
    kazoo.set(f"{scratch}/cas", b"v1")
    bad = shell(zk_connect, "set", "-v", "0", f"{scratch}/cas", "v2", check=False)
    assert bad.returncode == 1
    assert f"version No is not valid : {scratch}/cas" in bad.stderr
    assert kazoo.get(f"{scratch}/cas")[0] == b"v1"
    missing = shell(zk_connect, "get", f"{scratch}/missing", check=False)
    assert missing.returncode == 1 and f"Node does not exist: {scratch}/missing" in missing.stderr
    exists = shell(zk_connect, "create", f"{scratch}/cas", check=False)
    assert exists.returncode == 1 and f"Node already exists: {scratch}/cas" in exists.stderr


def test_shell_ephemeral_node_lives_as_long_as_its_session(kazoo, scratch, zk_connect):
    # Commands from stdin share one session: the ephemeral node is visible to the session that made it,
    # and gone once the shell exits and closes the session.
    out = shell(zk_connect, stdin=f"create -e {scratch}/eph here\nstat {scratch}/eph\n").stdout
    owner = re.search(r"ephemeralOwner = (0x[0-9a-f]+)", out).group(1)
    assert owner != "0x0"
    assert kazoo.exists(f"{scratch}/eph") is None


def test_shell_deleteall_removes_a_tree(kazoo, scratch, zk_connect):
    kazoo.ensure_path(f"{scratch}/tree/a/b")
    kazoo.ensure_path(f"{scratch}/tree/c")
    shell(zk_connect, "deleteall", f"{scratch}/tree")
    assert kazoo.get_children(scratch) == []


def test_shell_rejects_a_bad_connect_string(ferry_bin):
    bad = run(ferry_bin, "zookeeper-shell", "zk1:notaport", "ls", "/", check=False)
    assert bad.returncode != 0
    assert "invalid ZooKeeper connect string 'zk1:notaport'" in bad.stderr
