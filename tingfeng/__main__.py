from tingfeng.cli import main

main()
