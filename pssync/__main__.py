from pssync.cli import app

app(prog_name="pssync")
