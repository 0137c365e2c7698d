"""Bootstrap: a new organization's configuration (``ndap init``), a new ML project in it
(``ndap add-project``) and the project's repository scaffold. Nothing here overwrites
existing work, and nothing is half-written: every file is validated first, then written
through a temporary file that is renamed into place."""
