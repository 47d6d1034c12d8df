"""Files the software writes for people to open (Excel workbooks)."""
