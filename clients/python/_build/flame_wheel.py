"""PEP 517 build backend for flame's Python clients: a pure-Python wheel of the modules listed in
pyproject.toml, with the standard library only (no setuptools, no wheel package), so that
`pip install --no-build-isolation` works in a fresh venv without a network."""
import base64
import hashlib
import os
import re
import zipfile

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _pyproject():
    """The [project] strings and [tool.flame] modules. tomllib is 3.11+; Ubuntu 22.04 has 3.10, so
    the few simple lines used here are read by hand."""
    text = open(os.path.join(_HERE, "pyproject.toml"), encoding="utf-8").read()
    try:
        import tomllib

        data = tomllib.loads(text)
        return data["project"], data["tool"]["flame"]["modules"]
    except ImportError:
        pass
    project, modules, section = {}, [], None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "project" and re.match(r'^[\w-]+ = "', line):
            key, value = line.split(" = ", 1)
            project[key] = value.strip('"')
        elif section == "tool.flame" and line.startswith("modules"):
            modules = re.findall(r'"([^"]+)"', line)
    project.setdefault("license", {"text": "Apache-2.0"})
    return project, modules


def _metadata(project):
    lic = project["license"]["text"] if isinstance(project.get("license"), dict) else "Apache-2.0"
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project['description']}",
        f"License: {lic}",
        f"Requires-Python: {project['requires-python']}",
        "Description-Content-Type: text/markdown",
        "",
        open(os.path.join(_HERE, project["readme"]), encoding="utf-8").read(),
    ]
    return "\n".join(lines)


def _dist_info(project):
    return f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    project, _ = _pyproject()
    info = os.path.join(metadata_directory, _dist_info(project))
    os.makedirs(info, exist_ok=True)
    with open(os.path.join(info, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata(project))
    return _dist_info(project)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    project, modules = _pyproject()
    name = project["name"].replace("-", "_")
    wheel_name = f"{name}-{project['version']}-py3-none-any.whl"
    info = _dist_info(project)
    files = {f"{m}.py": open(os.path.join(_HERE, f"{m}.py"), "rb").read() for m in modules}
    files[f"{info}/METADATA"] = _metadata(project).encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: flame_wheel\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/LICENSE"] = b"Apache License 2.0: see the LICENSE file of the flame repository.\n"
    record = [_record_line(n, d) for n, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel_name), "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in files.items():
            z.writestr(zipfile.ZipInfo(n, date_time=(1980, 1, 1, 0, 0, 0)), d)
    return wheel_name
