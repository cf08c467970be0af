//! Machine learning on flow tables (KNN, KMeans).
