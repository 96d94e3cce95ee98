"""docker/ agrees with the repository: Docker cannot run in CI, so these read docker/Dockerfile, docker/compose.yaml
and docker/conf/ and check them against what they name (files, scripts, the `ferry` product, conf/'s cluster). No
cluster, no fixtures: they run with the other interop tests but need nothing started."""
import fnmatch
import functools
import json
import os
import posixpath
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
DOCKERFILE = DOCKER / "Dockerfile"
COMPOSE = DOCKER / "compose.yaml"

# Keys of a broker's properties that name hosts or paths, and so differ between conf/ and docker/conf/.
HOST_AND_PATH_KEYS = {"listeners", "advertised.listeners", "log.dirs", "zookeeper.connect"}
# What docker/conf/ may add to conf/: the address clients are told, since the listener binds every interface.
DOCKER_ONLY_KEYS = {"advertised.listeners"}
# The official zookeeper image's environment and the zoo.cfg keys it writes.
ZOO_ENV_KEYS = {
    "ZOO_TICK_TIME": "tickTime",
    "ZOO_INIT_LIMIT": "initLimit",
    "ZOO_SYNC_LIMIT": "syncLimit",
    "ZOO_MAX_CLIENT_CNXNS": "maxClientCnxns",
    "ZOO_ADMINSERVER_ENABLED": "admin.enableServer",
    "ZOO_4LW_COMMANDS_WHITELIST": "4lw.commands.whitelist",
}


# --- A YAML subset: block mappings and sequences, flow sequences, quoted and plain scalars (all kept as strings). ---


class YamlSubsetError(ValueError):
    pass


def _strip_comment(line):
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return line[:index]
    return line


def _split_outside_quotes(text, separator):
    parts, quote, current = [], None, ""
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == separator:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return parts


def _scalar(text, where):
    text = text.strip()
    if text.startswith("["):
        if not text.endswith("]"):
            raise YamlSubsetError(f"{where}: a flow sequence must end on its line")
        inner = text[1:-1].strip()
        return [_scalar(item, where) for item in _split_outside_quotes(inner, ",")] if inner else []
    if text.startswith('"'):
        if len(text) < 2 or not text.endswith('"'):
            raise YamlSubsetError(f"{where}: unterminated string")
        return json.loads(text)
    if text.startswith("'"):
        if len(text) < 2 or not text.endswith("'"):
            raise YamlSubsetError(f"{where}: unterminated string")
        return text[1:-1].replace("''", "'")
    if text[:1] in set("{&*!|>%@`"):
        raise YamlSubsetError(f"{where}: '{text[:1]}' is outside the YAML subset this test reads")
    return text


def _key_value(text, where):
    for index, char in enumerate(text):
        if char == ":" and (index + 1 == len(text) or text[index + 1] == " "):
            key = text[:index].strip()
            if not key or key[0] in "\"'[{&*!":
                raise YamlSubsetError(f"{where}: only plain keys are read")
            return key, text[index + 1 :].strip()
    return None, None


def parse_yaml_subset(text):
    """Parses the YAML docker/compose.yaml is kept to; anything else raises YamlSubsetError."""
    lines = []
    for number, raw in enumerate(text.splitlines(), 1):
        if "\t" in raw[: len(raw) - len(raw.lstrip())]:
            raise YamlSubsetError(f"line {number}: tab indentation")
        content = _strip_comment(raw).rstrip()
        if content.strip() in ("---", "..."):
            raise YamlSubsetError(f"line {number}: one document only")
        if content.strip():
            lines.append((len(content) - len(content.lstrip()), content.strip(), number))

    def block(position, indent):
        if lines[position][1].startswith("- ") or lines[position][1] == "-":
            return sequence(position, indent)
        return mapping(position, indent)

    def sequence(position, indent):
        items = []
        while position < len(lines) and lines[position][0] == indent and lines[position][1].startswith("-"):
            _, text, number = lines[position]
            item = text[1:].strip()
            if not item or (item[0] not in "\"'[" and _key_value(item, number)[0] is not None):
                raise YamlSubsetError(f"line {number}: sequences hold scalars only")
            items.append(_scalar(item, f"line {number}"))
            position += 1
        return items, position

    def mapping(position, indent):
        result = {}
        while position < len(lines) and lines[position][0] == indent:
            _, text, number = lines[position]
            if text.startswith("-"):
                break
            key, value = _key_value(text, f"line {number}")
            if key is None:
                raise YamlSubsetError(f"line {number}: expected key: value")
            if key in result:
                raise YamlSubsetError(f"line {number}: duplicate key {key}")
            position += 1
            if value:
                result[key] = _scalar(value, f"line {number}")
            elif position < len(lines) and lines[position][0] > indent:
                result[key], position = block(position, lines[position][0])
            elif position < len(lines) and lines[position][0] == indent and lines[position][1].startswith("-"):
                result[key], position = sequence(position, indent)
            else:
                result[key] = None
        if position < len(lines) and lines[position][0] > indent:
            raise YamlSubsetError(f"line {lines[position][2]}: unexpected indentation")
        return result, position

    if not lines:
        return None
    value, position = block(0, lines[0][0])
    if position != len(lines):
        raise YamlSubsetError(f"line {lines[position][2]}: unexpected indentation")
    return value


# --- The Dockerfile: instructions per stage, and where the final image's files come from. ---


def dockerfile_instructions(text):
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped, as Docker reads them."""
    instructions, pending = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        line = pending + stripped
        pending = ""
        word, _, rest = line.partition(" ")
        instructions.append((word.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def _exec_form(arguments):
    assert arguments.startswith("["), f"use the exec (JSON) form: {arguments}"
    return json.loads(arguments)


class Stage:
    def __init__(self, image, name):
        self.image, self.name = image, name
        self.workdir = "/"
        self.env = {}
        self.runs = []
        self.copies = []  # (from stage or None, sources, absolute destination, destination is a directory)
        self.cmd = None


@functools.cache
def dockerfile():
    args, stages = {}, []
    for instruction, arguments in dockerfile_instructions(DOCKERFILE.read_text()):
        if instruction == "ARG" and not stages:
            name, _, default = arguments.partition("=")
            args[name] = default
        elif instruction == "FROM":
            words = arguments.split()
            image = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args[m.group(1) or m.group(2)], words[0])
            stages.append(Stage(image, words[2] if len(words) == 3 and words[1].upper() == "AS" else None))
        elif instruction == "WORKDIR":
            stages[-1].workdir = posixpath.join(stages[-1].workdir, arguments)
        elif instruction == "ENV":
            for pair in shlex.split(arguments):
                key, _, value = pair.partition("=")
                stages[-1].env[key] = value
        elif instruction == "RUN":
            stages[-1].runs.append(arguments)
        elif instruction == "CMD":
            stages[-1].cmd = _exec_form(arguments)
        elif instruction in ("COPY", "ADD"):
            words = shlex.split(arguments)
            flags = [w for w in words if w.startswith("--")]
            rest = [w for w in words if not w.startswith("--")]
            if rest and rest[0].startswith("["):
                rest = json.loads(arguments[arguments.index("[") :])
            origin = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
            *sources, destination = rest
            is_directory = destination.endswith("/") or len(sources) > 1
            absolute = posixpath.normpath(posixpath.join(stages[-1].workdir, destination))
            stages[-1].copies.append((origin, sources, absolute, is_directory))
    return stages


def build_stage():
    return next(stage for stage in dockerfile() if stage.image.startswith("swift:"))


def runtime_stage():
    return dockerfile()[-1]


def matches_in_repo(pattern):
    return sorted(ROOT.glob(pattern)) if any(c in pattern for c in "*?[") else [ROOT / pattern] if (ROOT / pattern).exists() else []


@functools.cache
def image_files():
    """Paths in the final image that come from the build context, mapped to the repository path they copy."""
    mapping = {}
    for origin, sources, destination, is_directory in runtime_stage().copies:
        if origin is not None:
            continue
        for pattern in sources:
            for source in matches_in_repo(pattern):
                if source.is_dir():
                    mapping[destination] = source
                elif is_directory:
                    mapping[posixpath.join(destination, source.name)] = source
                else:
                    mapping[destination] = source
    return mapping


def resolve_in_image(path, mounts=()):
    """The repository file behind `path` in the image (relative paths from WORKDIR), through bind mounts first."""
    absolute = posixpath.normpath(posixpath.join(runtime_stage().workdir, path))
    for table in (dict(mounts), image_files()):
        for target in sorted(table, key=len, reverse=True):
            if absolute == target or absolute.startswith(target + "/"):
                return table[target] / posixpath.relpath(absolute, target) if absolute != target else table[target]
    return None


def ignore_patterns():
    ignore = DOCKERFILE.with_name(DOCKERFILE.name + ".dockerignore")
    if not ignore.exists():
        return []
    return [line.strip() for line in ignore.read_text().splitlines() if line.strip() and not line.startswith("#")]


def ignored(relative):
    parts = relative.split("/")
    for pattern in ignore_patterns():
        bare = pattern.removeprefix("**/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if pattern.startswith("**/") and any(fnmatch.fnmatchcase(part, bare) for part in parts):
            return True
        if any(fnmatch.fnmatchcase(prefix, pattern.lstrip("/")) for prefix in prefixes):
            return True
    return False


# --- conf/ and docker/conf/ ---


def read_properties(path):
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def listener(value):
    name, _, address = value.partition("://")
    host, _, port = address.rpartition(":")
    return name, host, int(port)


def connect_hosts(value):
    hosts, slash, chroot = value.partition("/")
    return hosts.split(","), slash + chroot


@functools.cache
def compose():
    return parse_yaml_subset(COMPOSE.read_text())


def services():
    return compose()["services"]


def zookeeper_services():
    return {name: s for name, s in services().items() if s.get("image", "").startswith("zookeeper")}


def broker_services():
    return {name: s for name, s in services().items() if s.get("build") or s.get("image") == "ferry"}


def published(port_spec):
    """(host port, container port) of a compose `ports` entry like 127.0.0.1:9092:9092."""
    parts = port_spec.split("/")[0].split(":")
    return int(parts[-2]), int(parts[-1])


def bind_mounts(service):
    mounts = []
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")):
            mounts.append((posixpath.normpath(target), (DOCKER / source).resolve()))
    return mounts


def zoo_servers(service):
    """{id: (host, client port)} from ZOO_SERVERS, e.g. server.1=zk1:2888:3888;2181."""
    servers = {}
    for entry in service["environment"]["ZOO_SERVERS"].split():
        key, _, address = entry.partition("=")
        quorum, _, client = address.partition(";")
        servers[int(key.removeprefix("server."))] = (quorum.split(":")[0], int(client.rpartition(":")[2]))
    return servers


def conf_zoo():
    return {int(p.stem.removeprefix("zoo")): read_properties(p) for p in sorted((ROOT / "conf").glob("zoo[0-9]*.cfg"))}


def conf_brokers():
    return {int(p.stem.removeprefix("server-")): p for p in sorted((ROOT / "conf").glob("server-[0-9]*.properties"))}


def broker_properties_file(service):
    command = service["command"]
    assert isinstance(command, list) and len(command) >= 2, f"command should be [script, properties]: {command}"
    path = resolve_in_image(command[1], bind_mounts(service))
    assert path is not None and path.is_file(), f"{command[1]} is neither mounted nor in the image"
    return path


# --- The Dockerfile ---


def test_every_copy_source_exists_and_is_in_the_build_context():
    for stage in dockerfile():
        for origin, sources, _, _ in stage.copies:
            if origin is not None:
                assert origin in {s.name for s in dockerfile()}, f"COPY --from={origin} names no stage"
                continue
            for pattern in sources:
                matches = matches_in_repo(pattern)
                assert matches, f"the Dockerfile copies {pattern}, which matches nothing in the repository"
                for match in matches:
                    relative = match.relative_to(ROOT).as_posix()
                    assert not ignored(relative), f"{relative} is copied but excluded by the .dockerignore"


def test_build_command_builds_the_ferry_product_package_swift_declares():
    products = re.findall(r'\.executable\(\s*name:\s*"([^"]+)"', (ROOT / "Package.swift").read_text())
    builds = [m for run in build_stage().runs for m in re.findall(r"swift build\b([^&;|]*)", run)]
    built = [shlex.split(b) for b in builds if "--show-bin-path" not in b]
    assert len(built) == 1, f"expected one swift build in the build stage, got {builds}"
    words = built[0]
    assert "--product" in words and words[words.index("--product") + 1] == "ferry", words
    assert "ferry" in products, f"Package.swift declares {products}"
    assert words[words.index("-c") + 1] == "release", words


def test_the_built_binary_is_what_the_scripts_run():
    build_run = next(run for run in build_stage().runs if "swift build" in run)
    copied = [(sources, dest) for origin, sources, dest, _ in runtime_stage().copies if origin == build_stage().name]
    assert copied, "the runtime stage copies nothing from the build stage"
    ferry_bin = runtime_stage().env.get("FERRY_BIN")
    assert ferry_bin, "FERRY_BIN (read by scripts/lib/common.sh) is not set in the image"
    assert any(dest == ferry_bin and all(s in build_run for s in sources) for sources, dest in copied), (
        f"FERRY_BIN={ferry_bin} is not the binary the build stage installs ({copied})")
    assert "FERRY_BIN" in (ROOT / "scripts/lib/common.sh").read_text()


def test_build_stage_installs_the_system_libraries_package_swift_needs():
    providers = re.findall(r"\.apt\(\[([^\]]*)\]\)", (ROOT / "Package.swift").read_text())
    needed = {name for group in providers for name in re.findall(r'"([^"]+)"', group)}
    assert needed, "Package.swift declares no apt providers: update this test"
    installed = {word for run in build_stage().runs if "apt-get" in run for word in run.split()}
    assert needed <= installed, f"the build stage does not install {sorted(needed - installed)}"


def test_runtime_stage_is_the_build_stages_distribution():
    distro = build_stage().image.rsplit("-", 1)[1]
    assert build_stage().image.startswith("swift:"), build_stage().image
    assert distro in runtime_stage().image, f"build on {build_stage().image}, run on {runtime_stage().image}"


def test_copied_scripts_are_executable_and_find_their_library():
    scripts = [(target, source) for target, source in image_files().items() if source.suffix == ".sh"]
    assert scripts, "the image has no scripts"
    for target, source in scripts:
        if source.parent.name != "lib":  # scripts/lib/*.sh are sourced, not run
            assert os.access(source, os.X_OK), f"{source.relative_to(ROOT)} is not executable"
        for library in re.findall(r'source "\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\)/([^"]+)"', source.read_text()):
            path = resolve_in_image(posixpath.join(posixpath.dirname(target), library))
            assert path is not None and path.is_file(), f"{source.name} sources {library}, which the image lacks"


def test_default_command_starts_a_broker_from_a_properties_file():
    command = runtime_stage().cmd
    assert command and len(command) >= 2, f"CMD should be [script, properties]: {command}"
    script = resolve_in_image(command[0])
    assert script is not None and script.name == "kafka-server-start.sh", f"{command[0]} is not the start script"
    assert os.access(script, os.X_OK)
    properties = resolve_in_image(command[1])
    assert properties is not None and properties.is_file(), f"{command[1]} is not in the image"
    assert {"broker.id", "zookeeper.connect"} <= read_properties(properties).keys()


# --- compose.yaml ---


def test_compose_is_the_subset_parsed_here_and_builds_from_the_repository():
    assert set(services()) == set(zookeeper_services()) | set(broker_services()), "a service is neither ZooKeeper nor a broker"
    for name, service in broker_services().items():
        build = service["build"]
        context = (DOCKER / build["context"]).resolve()
        assert context == ROOT, f"{name} builds from {context}, not the repository root"
        assert (context / build["dockerfile"]).resolve() == DOCKERFILE, f"{name} builds {build['dockerfile']}"
        for target, source in bind_mounts(service):
            assert source.exists(), f"{name} mounts {source}, which does not exist"
        assert set(service["depends_on"]) == set(zookeeper_services()), f"{name} should wait for the ensemble"
    declared = set(compose().get("volumes") or {})
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith((".", "/")) or source in declared, f"{name} uses undeclared volume {source}"


def test_compose_runs_the_start_script_on_docker_conf():
    for name, service in broker_services().items():
        script = resolve_in_image(service["command"][0], bind_mounts(service))
        assert script is not None and script.name == "kafka-server-start.sh", f"{name} runs {service['command'][0]}"
        assert os.access(script, os.X_OK), f"{script} is not executable"
        assert broker_properties_file(service).parent == DOCKER / "conf", f"{name} should read docker/conf/"


def test_compose_brokers_agree_with_conf():
    conf = conf_brokers()
    assert sorted(conf) == [1, 2, 3]
    ids, ports = {}, {}
    for name, service in broker_services().items():
        docker_file = broker_properties_file(service)
        docker = read_properties(docker_file)
        broker_id = int(docker["broker.id"])
        assert broker_id in conf, f"{name} is broker {broker_id}, which conf/ does not have"
        assert docker_file.name == conf[broker_id].name, f"broker {broker_id} reads {docker_file.name}"
        local = read_properties(conf[broker_id])
        assert int(local["broker.id"]) == broker_id
        _, _, port = listener(local["listeners"])
        assert listener(docker["listeners"])[2] == port, f"{name} listens on another port than conf/ broker {broker_id}"
        advertised = listener(docker["advertised.listeners"])
        assert advertised[1:] == (name, port), f"{name} advertises {docker['advertised.listeners']}"
        assert service.get("hostname", name) == name
        assert [published(p) for p in service["ports"]] == [(port, port)], f"{name} should publish {port} as itself"
        assert f"/{port}" in " ".join(service["healthcheck"]["test"]), f"{name}'s health check probes another port"
        ids[name], ports[name] = broker_id, port
    assert sorted(ids.values()) == [1, 2, 3]
    assert sorted(ports.values()) == [9092, 9093, 9094]


def test_docker_properties_have_conf_keys_and_values_apart_from_hosts_and_paths():
    for number, conf_file in conf_brokers().items():
        docker_file = DOCKER / "conf" / conf_file.name
        assert docker_file.is_file(), f"{docker_file.relative_to(ROOT)} is missing"
        local, docker = read_properties(conf_file), read_properties(docker_file)
        assert docker.keys() - DOCKER_ONLY_KEYS == local.keys(), (
            f"{docker_file.name}: keys differ: only in docker/ {sorted(docker.keys() - local.keys() - DOCKER_ONLY_KEYS)}, "
            f"only in conf/ {sorted(local.keys() - docker.keys())}")
        for key in local.keys() - HOST_AND_PATH_KEYS:
            assert docker[key] == local[key], f"{docker_file.name}: {key}={docker[key]}, conf/ has {local[key]}"
        assert [listener(v)[::2] for v in docker["listeners"].split(",")] == [
            listener(v)[::2] for v in local["listeners"].split(",")], f"{docker_file.name}: listeners differ beyond hosts"
        assert docker["log.dirs"].startswith("/"), "a container's log.dirs should be absolute (its volume)"


def test_zookeeper_connect_names_the_compose_ensemble():
    ensemble = zookeeper_services()
    expected = []
    for name, service in sorted(ensemble.items(), key=lambda item: int(item[1]["environment"]["ZOO_MY_ID"])):
        my_id = int(service["environment"]["ZOO_MY_ID"])
        host, client_port = zoo_servers(service)[my_id]
        assert host == name, f"ZOO_SERVERS names {host} for {name}'s id {my_id}"
        expected.append(f"{name}:{client_port}")
    for conf_file in conf_brokers().values():
        docker = read_properties(DOCKER / "conf" / conf_file.name)
        hosts, chroot = connect_hosts(docker["zookeeper.connect"])
        assert hosts == expected, f"{conf_file.name}: zookeeper.connect={docker['zookeeper.connect']}, compose has {expected}"
        assert chroot == connect_hosts(read_properties(conf_file)["zookeeper.connect"])[1], "the chroot differs from conf/"


def test_compose_ensemble_agrees_with_conf_zoo_cfgs():
    conf = conf_zoo()
    ensemble = zookeeper_services()
    by_id = {int(s["environment"]["ZOO_MY_ID"]): (name, s) for name, s in ensemble.items()}
    assert sorted(by_id) == sorted(conf) == [1, 2, 3], "one ZooKeeper service per conf/zoo<N>.cfg, ids 1..3"
    servers = {name: zoo_servers(service) for name, service in ensemble.items()}
    assert len({json.dumps(s, sort_keys=True) for s in servers.values()}) == 1, "ZOO_SERVERS differs between nodes"
    for my_id, (name, service) in by_id.items():
        environment = service["environment"]
        assert set(servers[name]) == set(by_id), f"{name}'s ZOO_SERVERS does not list the ensemble"
        client_port = servers[name][my_id][1]
        assert [published(p) for p in service["ports"]] == [(int(conf[my_id]["clientPort"]), client_port)], (
            f"{name} should publish its client port on conf/zoo{my_id}.cfg's clientPort")
        for variable, key in ZOO_ENV_KEYS.items():
            assert environment.get(variable) == conf[my_id][key], f"{name}: {variable} differs from zoo{my_id}.cfg's {key}"
        assert service.get("hostname", name) == name


def test_subset_parser_agrees_with_pyyaml():
    yaml = pytest.importorskip("yaml")

    def strings(value):
        if isinstance(value, dict):
            return {k: strings(v) for k, v in value.items()}
        if isinstance(value, list):
            return [strings(v) for v in value]
        if isinstance(value, bool):
            return str(value).lower()
        return value if value is None else str(value)

    assert compose() == strings(yaml.safe_load(COMPOSE.read_text()))


def test_subset_parser_refuses_what_it_does_not_read():
    for text in ("a: &x 1\nb: *x\n", "a: |\n  text\n", "a: {b: 1}\n", "a:\n  - b: 1\n", "a: 1\na: 2\n"):
        with pytest.raises(YamlSubsetError):
            parse_yaml_subset(text)
    assert parse_yaml_subset('a:\n  b: "x # y" # comment\n  c: [1, "2, 3"]\n  d:\n  - e\n') == {
        "a": {"b": "x # y", "c": ["1", "2, 3"], "d": ["e"]}}
