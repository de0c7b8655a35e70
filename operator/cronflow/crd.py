"""`python -m cronflow.crd`: print the ScheduledJob CRD generated from the models."""

from cronflow.api.crd import main

if __name__ == "__main__":
    main()
