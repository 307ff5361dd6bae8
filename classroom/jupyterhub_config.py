# JupyterHub configuration for a class on one server (docs/classroom.md).
#
#   cd /srv/vdl-hub && sudo /path/to/course-env/bin/jupyterhub -f /path/to/course/classroom/jupyterhub_config.py
#
# - learners log in with their local Unix account (PAM) and each gets a JupyterLab server
#   running as that Unix user, from the course's environment (the Python that runs the hub);
# - on a learner's first start the course notebooks are copied to ~/course (later starts
#   keep the learner's edits); the home folder is made private (mode 700);
# - an idle culler stops servers idle for VDL_IDLE_MINUTES (default 60);
# - limits per learner process (setrlimit before the server starts; kernels inherit them):
#   memory (RLIMIT_DATA, VDL_MEM_LIMIT_MB, default 3072 MB per process), number of processes
#   of the learner (RLIMIT_NPROC, VDL_MAX_PROCS, default 256), CPU priority (nice 10), and one
#   compute thread per kernel (OMP/MKL/torch thread variables). See docs/classroom.md for what
#   is and is not enforced and for the measured sizing.
#
# Settings come from environment variables so the same file serves a class and the test
# (make hub-test), which loads this file and overrides only the authenticator and ports.
import os
import pwd
import resource
import shutil
import sys
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)

COURSE_DIR = Path(os.environ.get("VDL_COURSE_DIR", Path(__file__).resolve().parents[1]))
ENV_BIN = Path(sys.executable).parent  # the course environment runs the hub and every server
MEM_LIMIT_MB = int(os.environ.get("VDL_MEM_LIMIT_MB", "3072"))
MAX_PROCS = int(os.environ.get("VDL_MAX_PROCS", "256"))
NICE = int(os.environ.get("VDL_NICE", "10"))
IDLE_MINUTES = int(os.environ.get("VDL_IDLE_MINUTES", "60"))
COURSE_FOLDER = "course"  # in each learner's home

if not (COURSE_DIR / "notebooks").is_dir() or not (COURSE_DIR / "course_utils").is_dir():
    raise SystemExit(
        f"classroom/jupyterhub_config.py: {COURSE_DIR} is not the course checkout (no notebooks/ "
        "and course_utils/): set VDL_COURSE_DIR to the folder that holds them."
    )
for tool in ("jupyterhub-singleuser", "configurable-http-proxy"):
    if not (ENV_BIN / tool).exists():
        raise SystemExit(
            f"classroom/jupyterhub_config.py: {ENV_BIN / tool} is missing: run JupyterHub with the "
            "course environment's Python (`make env` installs classroom/requirements.txt into it)."
        )


def copy_course(spawner) -> None:
    """First start: copy the notebooks to ~/course, owned by the learner; home made private."""
    user = pwd.getpwnam(spawner.user.name)
    home = Path(user.pw_dir)
    if not home.is_dir():
        raise RuntimeError(f"the home folder {home} of {user.pw_name} does not exist (create the user with `useradd -m`)")
    os.chmod(home, 0o700)  # learners cannot read each other's work
    dest = home / COURSE_FOLDER
    if dest.exists():
        return  # keep the learner's edits
    shutil.copytree(COURSE_DIR / "notebooks", dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for root, dirs, files in os.walk(dest):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.chown(name, user.pw_uid, user.pw_gid)


class CourseSpawner(LocalProcessSpawner):
    """LocalProcessSpawner (the server runs as the learner's Unix user) plus per-process limits."""

    def make_preexec_fn(self, name):
        drop_to_user = super().make_preexec_fn(name)
        mem = MEM_LIMIT_MB * 2**20

        def preexec():
            # as root, before switching user; the server's kernels inherit the limits
            resource.setrlimit(resource.RLIMIT_DATA, (mem, mem))
            resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCS, MAX_PROCS))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            os.nice(NICE)
            drop_to_user()

        return preexec


c.JupyterHub.spawner_class = CourseSpawner
c.JupyterHub.ip = os.environ.get("VDL_HUB_IP", "0.0.0.0")
c.JupyterHub.port = int(os.environ.get("VDL_HUB_PORT", "8000"))
c.JupyterHub.cleanup_servers = True  # stopping the hub stops the learners' servers
c.ConfigurableHTTPProxy.command = [str(ENV_BIN / "configurable-http-proxy")]

c.Spawner.pre_spawn_hook = copy_course
c.Spawner.cmd = [str(ENV_BIN / "jupyterhub-singleuser")]
c.Spawner.notebook_dir = "~/" + COURSE_FOLDER
c.Spawner.default_url = "/lab/tree/00_video_as_data.ipynb"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 120
# shown to learners' tools (LocalProcessSpawner does not enforce these two; see above)
c.Spawner.mem_limit = f"{MEM_LIMIT_MB}M"
c.Spawner.environment = {
    "PYTHONPATH": str(COURSE_DIR),  # the course's helpers and data, read-only for learners
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}

# Local Unix accounts (PAM). Who may log in: one user name a line in classroom/students.txt
# (or the file in VDL_STUDENTS); the lecturer(s) in VDL_ADMINS (comma-separated) are admins.
students = Path(os.environ.get("VDL_STUDENTS", Path(__file__).with_name("students.txt")))
if students.is_file():
    c.Authenticator.allowed_users = {
        u.strip() for u in students.read_text().splitlines() if u.strip() and not u.startswith("#")
    }
c.Authenticator.admin_users = {a for a in os.environ.get("VDL_ADMINS", "").split(",") if a}

c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                    f"--timeout={IDLE_MINUTES * 60}", "--cull-every=60"],
    }
]
c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
]
