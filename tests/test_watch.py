"""Watch mode: an edit rebuilds with a one-line summary; a broken file keeps the last PDFs."""

import queue
import subprocess
import sys
import threading
import time


def lines_of(process):
    """The process's stdout lines on a queue (read in a thread, so waits can time out)."""
    lines = queue.Queue()

    def read():
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return lines


def test_watch_rebuilds_on_edit_and_keeps_the_pdf_on_error(small_book):
    command = [sys.executable, "-m", "typeset", "watch", "--catalogue",
               str(small_book.catalogue), "--out", str(small_book.out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        lines = lines_of(process)
        first = lines.get(timeout=120)
        assert "built 8 pages" in first and "moved: none" in first, first
        pdf = small_book.out / "small-print.pdf"
        built = pdf.read_bytes()

        time.sleep(0.5)
        one = small_book.catalogue / "one.yaml"
        one.write_text(one.read_text(encoding="utf-8").replace("一張照片的說明。", "改過的說明。"),
                       encoding="utf-8")
        second = lines.get(timeout=120)
        assert "built 8 pages" in second, second
        assert pdf.read_bytes() != built
        edited = pdf.read_bytes()

        one.write_text("id: one\ntitle: [broken\n", encoding="utf-8")
        third = lines.get(timeout=120)
        assert "error:" in third and "one.yaml:" in third and "last good PDFs are kept" in third
        assert pdf.read_bytes() == edited
    finally:
        process.terminate()
        process.wait(timeout=30)
