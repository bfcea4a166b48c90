"""Venue calls made at once (bots/venues/at_once.py): every call's answer in the calls' order, an
error handed back in its place rather than raised, and the caller's context (the request
budget's priority of a hedge or a stop) in force in the threads that make them."""

from __future__ import annotations

import threading

import ccxt

from bots.venues import at_once, limiter


def test_each_answer_comes_back_in_the_calls_order_with_errors_in_their_place():
    error = ccxt.RequestTimeout("lost")

    def fails():
        raise error

    answers = at_once.each(4, [lambda: 1, fails, lambda: 3, lambda: 4, lambda: 5])

    assert answers == [1, error, 3, 4, 5]


def test_the_calls_run_in_threads_with_the_callers_request_priority():
    def seen():
        return threading.current_thread() is not threading.main_thread(), limiter.current_priority()

    with limiter.priority(limiter.STOP):
        answers = at_once.each(4, [seen] * 8)

    assert answers == [(True, limiter.STOP)] * 8
    assert limiter.current_priority() == limiter.NORMAL


def test_one_at_a_time_runs_in_the_callers_thread():
    assert at_once.each(1, [threading.current_thread] * 3) == [threading.current_thread()] * 3


def test_no_more_calls_are_in_flight_than_the_width_asked_even_on_a_wider_pool():
    at_once.each(8, [lambda: None] * 8)  # the process's pool is eight wide now
    lock, active, most = threading.Lock(), [0], [0]

    def call():
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        threading.Event().wait(0.02)  # long enough for the others to start, if they may
        with lock:
            active[0] -= 1

    at_once.each(2, [call] * 8)

    assert most[0] <= 2
