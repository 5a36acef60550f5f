"""Every `chaos` command's errors: one line on stderr and a non-zero exit, never a traceback.

The people running these commands are on call; "Docker is not running" or
"no link api_9->redis" must be the whole answer, with what to do next. Every
package's expected errors are a ``ChaosError`` (its message and its hint);
the fault proxy's refusals, the Docker engine's and the HTTP client's errors
come from outside and get their hint here. A bug is still a traceback.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from docker.errors import DockerException
from requests import RequestException

from chaos.errors import ChaosError
from chaos.toxiproxy.client import ToxiproxyError


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ChaosError as exc:  # a message of several lines (a profile's problems, a command's output) joined
            raise click.ClickException("; ".join(line for line in str(exc).splitlines() if line.strip())) from None
        except ToxiproxyError as exc:
            raise click.ClickException(f"the fault proxy refused: {exc}; `chaos status` lists the links") from None
        except DockerException as exc:
            raise click.ClickException(f"the Docker engine did not answer ({str(exc).splitlines()[0][:160]}); "
                                       "run `chaos provision` (as root it starts one)") from None
        except RequestException as exc:
            raise click.ClickException(f"the stack did not answer ({type(exc).__name__}); "
                                       "is it up? try `chaos status`") from None
    return run
