"""4D human-object motion from video: evidence per frame, a temporal solve in the fitting core, a
gravity-aligned world frame, annotations a person adds, and the files a user looks at."""
