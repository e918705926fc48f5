#!/usr/bin/python3
"""Writes the PDFs the engine's extraction tests read (rag_pdf_text_test.cpp).

The build runs it into its own folder, so no binary is committed and the PDFs are
always made by the tools Debian ships (scripts/deps.sh: python3-reportlab, qpdf,
img2pdf, with python3-pil that img2pdf needs).

    make_pdfs.py OUTDIR
"""

import io
import pathlib
import subprocess
import sys

import img2pdf
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def text_pdf(path):
    """Three pages: text, a blank page, text; the document information has a Title."""
    # invariant: no creation date or random id, so the bytes are the same every run
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    c.setTitle("Staff handbook")
    c.drawString(72, 760, "Leave policy")
    c.drawString(72, 740, "Every employee has twenty days of paid leave.")
    c.showPage()
    c.showPage()
    c.drawString(72, 760, "Parental leave lasts sixteen weeks.")
    c.showPage()
    c.save()


def untitled_pdf(path):
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    c.setTitle("")  # reportlab's default is "untitled"
    c.drawString(72, 760, "A page without a title.")
    c.showPage()
    c.save()


def image_only_pdf(path):
    """A scan: one page that is a picture, with no text layer."""
    image = io.BytesIO()
    Image.new("L", (200, 100), 255).save(image, format="PNG")
    path.write_bytes(img2pdf.convert(image.getvalue()))


def encrypt(source, path, user_password):
    """AES-256; with an empty user password the PDF opens without one (only an
    owner password restricts printing and copying)."""
    subprocess.run(
        ["qpdf", "--encrypt", user_password, "owner-secret", "256",
         "--print=none", "--extract=n", "--", str(source), str(path)],
        check=True)


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    text_pdf(out / "text.pdf")
    untitled_pdf(out / "untitled.pdf")
    image_only_pdf(out / "image_only.pdf")
    encrypt(out / "text.pdf", out / "encrypted.pdf", "user-secret")
    encrypt(out / "text.pdf", out / "restricted.pdf", "")


if __name__ == "__main__":
    main()
