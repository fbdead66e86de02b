"""Serving the feeds folder with nginx: its configuration, a process to run it, and a figure.

The service writes every feed with `.gz` (and `.br`) copies, mtimes set to the feed's
Last-Modified (`publish.py`). nginx serves those files as they are: `gzip_static` (and
`brotli_static` where the module is loaded), each format's media type, the feeds' lifetime,
and validators (mtime and size) that are the same on every host that has the same bytes.
Nothing here imports aiohttp or the store.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from syndicate.render import FORMATS
from syndicate.render.opml import FILENAME as OPML_FILENAME
from syndicate.render.opml import MEDIA_TYPE as OPML_MEDIA_TYPE

NGINX = "/usr/sbin/nginx"
SLUG = "[a-z0-9][a-z0-9-]{0,63}"
# How browsers' navigations begin their Accept (Chromium, Firefox, Safari): such a request
# is sent to the section's page, as the service itself does. The service's rule is finer (it
# compares q-values); this one needs no code in nginx and no reader sends HTML first.
_BROWSER_ACCEPT = "~*^text/html"


def _quoted(value: str) -> str:
    if any(c in value for c in '"\\\n{}$'):
        raise ValueError(f"nginx: cannot put {value!r} into a configuration")
    return f'"{value}"'


@dataclass(frozen=True, slots=True)
class StaticSite:
    """nginx serving `feeds_dir` at `/feeds/` on `host:port`.

    With `app_url` (the service, e.g. `http://127.0.0.1:8080`), everything else is proxied to
    it, and a browser opening a feed is sent to the section's page (303, `Vary: Accept`).
    """

    feeds_dir: Path
    port: int
    host: str = "127.0.0.1"
    max_age: int = 60
    brotli: bool = False
    app_url: str | None = None

    def server_block(self) -> str:
        """The `server { … }` (and the `map` it uses) to put in an nginx `http` block."""
        folder = str(Path(self.feeds_dir).resolve())
        cache = _quoted(f"public, max-age={self.max_age}")
        lines = [
            "server {",
            f"    listen {self.host}:{self.port};",
            "    absolute_redirect off;",
            "    server_tokens off;",
            "    location /feeds/ {",
            f"        alias {_quoted(folder + '/')};",
            "        # The .gz (and .br) copies written beside each feed, never compressed here.",
            "        gzip_static on;",
            "        gzip_vary on;",
        ]
        if self.brotli:
            lines.append("        brotli_static on;")
        if self.app_url:
            # What is not a file (tag and author feeds, made on demand) the service answers.
            lines.append("        error_page 404 = @syndicate;")
        lines += [
            "        etag on;",
            "        types { }",
            "        default_type application/octet-stream;",
            f"        add_header Cache-Control {cache};",
            "        # Temp files of a write in progress, and the copies by their own names.",
            r"        location ~ /\.|\.(gz|br|tmp)$ { return 404; }",
            f"        location = /feeds/{OPML_FILENAME} {{",
            f"            default_type {_quoted(OPML_MEDIA_TYPE)};",
            f"            add_header Cache-Control {cache};",
            "        }",
        ]
        for fmt in FORMATS.values():
            name = re.escape(fmt.filename)
            lines += [
                # Quoted: the regex has braces, which nginx would read as a block.
                f'        location ~ "^/feeds/(?<syndicate_section>{SLUG})/{name}$" {{',
                f"            default_type {_quoted(fmt.media_type)};",
                f"            add_header Cache-Control {cache};",
            ]
            if self.app_url:
                lines += [
                    "            add_header Vary Accept;",
                    "            if ($syndicate_wants_page) {",
                    "                return 303 /sections/$syndicate_section;",
                    "            }",
                ]
            lines.append("        }")
        lines.append("    }")
        if self.app_url:
            for where in ("/", "@syndicate"):
                lines += [
                    f"    location {where} {{",
                    f"        proxy_pass {self.app_url.rstrip('/')};",
                    "        proxy_http_version 1.1;",
                    '        proxy_set_header Connection "";',
                    "        proxy_set_header Host $host;",
                    "    }",
                ]
        lines.append("}")
        block = "\n".join(lines) + "\n"
        if self.app_url:
            wants = f'    default 0;\n    "{_BROWSER_ACCEPT}" 1;\n'
            block = "map $http_accept $syndicate_wants_page {\n" + wants + "}\n" + block
        return block

    def nginx_conf(self, prefix: Path, *, user: str | None = None) -> str:
        """A whole nginx.conf for one nginx of its own: pid, logs and temp files in `prefix`;
        workers run as `user` when given (only a master started as root can switch)."""
        prefix = Path(prefix).resolve()
        temp = _quoted(str(prefix / "tmp"))
        server = "".join(f"    {line}\n" for line in self.server_block().splitlines())
        return (
            (f"user {user};\n" if user else "") + "worker_processes 1;\n"
            f"pid {_quoted(str(prefix / 'nginx.pid'))};\n"
            f"error_log {_quoted(str(prefix / 'error.log'))} warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            "    access_log off;\n"
            "    sendfile on;\n"
            "    tcp_nopush on;\n"
            "    keepalive_requests 100000;\n"
            f"    client_body_temp_path {temp};\n"
            f"    proxy_temp_path {temp};\n"
            f"    fastcgi_temp_path {temp};\n"
            f"    uwsgi_temp_path {temp};\n"
            f"    scgi_temp_path {temp};\n" + server + "}\n"
        )


def write_nginx_config(
    prefix: Path,
    feeds_dir: Path,
    port: int,
    *,
    max_age: int = 60,
    brotli: bool = False,
    app_url: str | None = None,
) -> Path:
    """Write `prefix/nginx.conf` (and the folder for its temp files) serving `feeds_dir`."""
    site = StaticSite(feeds_dir, port, max_age=max_age, brotli=brotli, app_url=app_url)
    (Path(prefix) / "tmp").mkdir(parents=True, exist_ok=True)
    conf = Path(prefix) / "nginx.conf"
    conf.write_text(site.nginx_conf(prefix), encoding="utf-8")
    return conf


def nginx_binary() -> str | None:
    """Debian's nginx, or one on PATH; None when there is none."""
    return NGINX if Path(NGINX).is_file() else shutil.which("nginx")


@contextlib.contextmanager
def running_nginx(prefix: Path, site: StaticSite, *, timeout: float = 10.0) -> Iterator[str]:
    """Run nginx for `site` as a child process (files in `prefix`); yield its base URL."""
    binary = nginx_binary()
    if binary is None:
        raise FileNotFoundError("nginx is not installed")
    (Path(prefix) / "tmp").mkdir(parents=True, exist_ok=True)
    conf = Path(prefix) / "nginx.conf"
    # Started by root, nginx's workers would be `nobody`, who may not read a private folder:
    # they run as whoever runs this (the owner of the feeds it serves).
    user = getpass.getuser() if os.geteuid() == 0 else None
    conf.write_text(site.nginx_conf(prefix, user=user), encoding="utf-8")
    port = site.port
    command = [binary, "-p", str(Path(prefix).resolve()), "-c", str(conf.resolve())]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    if checked.returncode != 0:
        raise RuntimeError(f"nginx rejects its configuration: {checked.stderr.strip()}")
    proc = subprocess.Popen(
        [*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + timeout
        while not _listening(port):
            if proc.poll() is not None:
                error = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"nginx stopped: {error.strip()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"nginx did not listen on {port} within {timeout} s")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


_RATE = re.compile(r"^Requests/sec:\s+([0-9.]+)\s*$", re.MULTILINE)


def wrk_requests_per_second(
    url: str,
    *,
    seconds: int = 5,
    connections: int = 32,
    threads: int = 2,
    headers: dict[str, str] | None = None,
) -> float | None:
    """Requests per second that `wrk` measures against `url`; None when wrk is not here."""
    binary = shutil.which("wrk")
    if binary is None:
        return None
    command = [binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    found = _RATE.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"wrk failed: {done.stderr.strip() or done.stdout.strip()}")
    return float(found.group(1))
