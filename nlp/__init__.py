"""Text tools and estimators: tokenisation, rumor scoring, claim matching, incidents."""
