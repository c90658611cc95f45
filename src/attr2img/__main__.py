from attr2img.cli import main

raise SystemExit(main())
