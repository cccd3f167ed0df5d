from derivekit.cli import main

raise SystemExit(main())
