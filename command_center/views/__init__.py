"""One module per Command Center section; command_center/urls.py names them all."""
