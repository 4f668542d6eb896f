#!/usr/bin/env python3
"""Reads a clinical lead's workbook (lists/PCN.xlsx) with openpyxl, a reader
independent of phm's, and checks it against the CSV list beside it: the same
cells (numbers as numbers, evidence dates as dates), a frozen header row, an
autofilter over the list, one drop-down (accept, exclude) on every decision
cell, and a help sheet naming every column. Prints `ok` or fails with the
first difference. Usage: check_workbook.py LIST.xlsx LIST.csv
"""
import csv
import datetime
import sys

import openpyxl
from openpyxl.utils import get_column_letter

xlsx_path, csv_path = sys.argv[1:3]
book = openpyxl.load_workbook(xlsx_path)
assert book.sheetnames == ["List", "How to use this list"], book.sheetnames
sheet = book["List"]
with open(csv_path, newline="") as f:
    rows = list(csv.reader(f))
header, lines = rows[0], rows[1:]
last_row = len(lines) + 1
last_col = get_column_letter(len(header))

assert sheet.freeze_panes == "A2", f"frozen panes: {sheet.freeze_panes}"
assert sheet.auto_filter.ref == f"A1:{last_col}{last_row}", sheet.auto_filter.ref

decision = get_column_letter(header.index("decision") + 1)
validations = sheet.data_validations.dataValidation
assert len(validations) == 1, validations
v = validations[0]
assert v.type == "list", v.type
assert v.formula1 == '"accept,exclude"', v.formula1
assert str(v.sqref) == f"{decision}2:{decision}{last_row}", v.sqref

for r, line in enumerate(lines, start=2):
    for c, (name, text) in enumerate(zip(header, line), start=1):
        cell = sheet.cell(r, c)
        where = f"List!{get_column_letter(c)}{r} ({name})"
        if text == "":
            assert cell.value is None, f"{where}: {cell.value!r} for an empty CSV cell"
        elif name.endswith("_last"):
            assert cell.is_date, f"{where}: not a date cell"
            assert cell.value.date() == datetime.date.fromisoformat(text), where
        elif name in ("need_score", "rank", "imd_decile"):
            assert isinstance(cell.value, (int, float)), f"{where}: {cell.value!r} is not a number"
            assert cell.value == int(text), where
        else:
            assert cell.value == text, f"{where}: {cell.value!r} != {text!r}"

help_sheet = book["How to use this list"]
named = {help_sheet.cell(r, 1).value for r in range(1, help_sheet.max_row + 1)}
missing = [h for h in header if h not in named]
assert not missing, f"help sheet does not explain {missing}"
print("ok")
