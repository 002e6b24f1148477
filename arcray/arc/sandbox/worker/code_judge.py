"""The CODE judge's two processes. The supervisor forks both for one answer and connects them with
two pipes (5 in, 6 out in each).

- ``answer``: the answer's source (the preamble and the model's code), compiled on its own. It
  says whether it compiled before any of it runs, then serves calls from the tests: arguments
  in, a return value out, plain data both ways (:mod:`plain`).
- ``tests``: the problem's setup and tests, with the entry point bound to a stub that calls the
  answer's process. The verdict (the tests ran to the end, and everything the answer sent was a
  plain return value) is decided here, where no line of the answer runs, and sent to the
  supervisor.
"""

from __future__ import annotations

import builtins

import plain
from child import PEER_IN_FD, PEER_OUT_FD, CappedText, LineReader, compile_source, describe, send, write_all

CALL_LIMIT = 16 * 1024 * 1024  # bytes of one call or one return value between the two processes


def answer(request: dict, captured: CappedText) -> None:
    compiled, failure = compile_source(request["code"], "<answer>")
    send({"compiled": failure is None, "message": failure[1] if failure else ""})  # before any of it runs
    if failure:
        return
    entry = request["entry_point"]
    namespace = {"__name__": "answer", "__builtins__": builtins}
    problem = None
    try:
        exec(compiled, namespace)
        function = namespace.get(entry)
        if not callable(function):
            problem = ("invalid_code", f"the answer defines no function {entry}()")
    except MemoryError:
        problem = ("memory", "MemoryError while loading the answer")
    except BaseException as error:
        problem = ("exception", f"while loading the answer: {describe(error)}")
    calls = LineReader(PEER_IN_FD, CALL_LIMIT)
    while (line := calls.line()) is not None:
        reply = ["failed", *problem] if problem else _call(function, line)
        try:
            data = plain.dumps(reply)
        except BaseException as error:  # a value that is not plain data, or one that breaks while being read
            why = str(error) if isinstance(error, plain.NotPlain) else f"could not be read ({describe(error)})"
            data = plain.dumps(["failed", "exception", f"the answer returned a value that {why}"])
        write_all(PEER_OUT_FD, data + b"\n")
        printed = captured.take()
        if printed:
            send({"stdout": printed})


def _call(function, line: bytes) -> list:
    try:
        _, args, kwargs = plain.loads(line)
        return ["value", function(*args, **kwargs)]
    except MemoryError:
        return ["failed", "memory", "MemoryError: the answer exceeded its memory limit"]
    except BaseException as error:  # the answer raised (SystemExit too)
        return ["raised", describe(error)]


class AnswerRaised(Exception):
    """The answer's function raised; its text is ``Type: message`` from the answer's process."""


class AnswerFailed(Exception):
    """The answer cannot be judged right: it crashed, ran out of memory or sent something other than plain data."""


def tests(request: dict, captured: CappedText) -> None:
    entry = request["entry_point"]
    results, failed = LineReader(PEER_IN_FD, CALL_LIMIT + 1024), []

    def call_the_answer(*args, **kwargs):
        if failed:
            raise AnswerFailed(failed[0][1])
        try:
            line = plain.dumps(["call", list(args), kwargs])
        except plain.NotPlain as error:
            raise TypeError(f"the tests passed an argument that {error}; only plain data reaches the answer") from None
        try:
            write_all(PEER_OUT_FD, line + b"\n")
            reply = results.line()
        except OSError:
            reply = None
        if reply is None:
            failed.append(("crash", "the answer's process ended or sent too much before returning"))
            raise AnswerFailed(failed[0][1])
        try:
            reply = plain.loads(reply)
        except plain.NotPlain:
            reply = None
        if type(reply) is list and len(reply) == 2 and reply[0] == "value":
            return reply[1]
        if type(reply) is list and len(reply) == 2 and reply[0] == "raised" and type(reply[1]) is str:
            raise AnswerRaised(reply[1][:500])
        if type(reply) is list and len(reply) == 3 and reply[0] == "failed" and type(reply[2]) is str:
            kind = reply[1] if reply[1] in ("memory", "exception", "invalid_code") else "exception"
            failed.append((kind, reply[2][:500]))
        else:
            failed.append(("exception", "the answer's process sent something that is not a return value"))
        raise AnswerFailed(failed[0][1])

    namespace = {"__name__": "tests", "__builtins__": builtins}
    try:
        if request.get("setup"):
            exec(compile(request["setup"], "<setup>", "exec"), namespace)
        namespace[entry] = call_the_answer
        exec(compile(request["tests"], "<tests>", "exec"), namespace)
        verdict = ("ok", "")
    except MemoryError:
        verdict = ("memory", "MemoryError in the tests")
    except AnswerRaised as error:
        verdict = ("exception", f"{error} (raised by the answer)")
    except BaseException as error:  # a failed assert, an exception the answer's value caused
        verdict = ("exception", describe(error))
    if failed:
        verdict = failed[0]
    send({"verdict": verdict[0], "message": verdict[1]})
