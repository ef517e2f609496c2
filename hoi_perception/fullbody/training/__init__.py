"""What trains, releases and evaluates the fullbody network: data loading, augmentation, losses,
training, release/export and the real-data studies. Live inference imports nothing from here."""
