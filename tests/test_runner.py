import logging

from pipeline.runner import ComponentProgress


def test_progress_handler_turns_both_runners_log_lines_into_events():
    events = []
    handler = ComponentProgress(lambda node, event, seconds: events.append((node, event, seconds)))
    logger = logging.getLogger("test_progress")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("node %s is running.", "Trainer")  # BeamDagRunner's wording
        logger.info("node %s is finished.", "Trainer")
        logger.info("Component %s is running.", "Pusher")  # LocalDagRunner's wording
        logger.info("Component %s is finished.", "Pusher")
        logger.info("Component %s is skipped.", "Evaluator")
        logger.info("unrelated %s", "message")
    finally:
        logger.removeHandler(handler)
    assert [(node, event) for node, event, _ in events] == [
        ("Trainer", "started"), ("Trainer", "finished"), ("Pusher", "started"), ("Pusher", "finished")
    ]
    assert all(seconds >= 0 for _, _, seconds in events)
