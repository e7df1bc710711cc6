from iconctl.cli import main

main()
