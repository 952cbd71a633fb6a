from perfci.cli import main

main()
